/**
 * Closing the http2 engine drops the copies still inside their `mirrorTimeoutMs` window: each is
 * reported `dropped` at once (naming the shutdown), its stream reset, its timer cleared, so the
 * pool session it held closes with the proxy instead of up to `mirrorTimeoutMs` later.
 */
import { createHook } from 'node:async_hooks';
import { constants, type ServerHttp2Stream } from 'node:http2';
import { status } from '@grpc/grpc-js';
import { ECHO_SERVICE_NAME, callEcho, echoRequest } from '@grpc-proxy/testing';
import { MIRROR_SHUTDOWN_DETAILS } from './mirror';
import { once } from './test-support/held-backend';
import { useMirrorBench } from './test-support/mirror-proxy';
import { startRawBackend } from './test-support/raw-h2';

/** Long enough that only close() can end the copy within the test's timeout. */
const MIRROR_TIMEOUT_MS = 60_000;

describe('mirror and close', () => {
  const t = useMirrorBench();

  it('close() drops a copy still running after its call ended: no stream, no timer left', async () => {
    await t.start({ mirrorTimeoutMs: MIRROR_TIMEOUT_MS });
    // Reads everything, holds its answer.
    t.raw = await startRawBackend((stream: ServerHttp2Stream) => stream.resume());
    t.mirror = { backend: { name: 'held', target: t.raw.target } };
    // The copy's mirrorTimeoutMs timer: found by its duration, checked once close() resolved.
    const timers: { _idleTimeout?: number; _destroyed?: boolean }[] = [];
    const hook = createHook({
      init: (_id, type, _trigger, resource) => {
        const timer = resource as (typeof timers)[number];
        if (type === 'Timeout' && timer._idleTimeout === MIRROR_TIMEOUT_MS) timers.push(timer);
      },
    }).enable();
    try {
      const outcome = await callEcho(t.echo, echoRequest({ payload: Buffer.from('x') }));
      expect(outcome.status.code).toBe(status.OK);
      await t.proxy.callEnds(1);
      const copy = t.raw.streams[0];
      expect(copy.closed).toBe(false);
      expect(t.proxy.mirrors).toEqual([]);
      expect(timers).toHaveLength(1);

      const backendSession = copy.session!;
      await t.proxy.proxy.close(1_000); // a graceful close: no call runs, nothing to wait for
      expect(t.proxy.mirrors).toEqual([
        {
          method: `/${ECHO_SERVICE_NAME}/Echo`,
          backend: 'held',
          outcome: 'dropped',
          code: status.CANCELLED,
          details: MIRROR_SHUTDOWN_DETAILS,
        },
      ]);
      expect(timers.map((timer) => timer._destroyed)).toEqual([true]);
      if (!copy.closed) await once(copy, 'close');
      expect(copy.rstCode).toBe(constants.NGHTTP2_CANCEL);
      // The pool's session to the mirror closes with the proxy (it held only the copy).
      if (!backendSession.closed && !backendSession.destroyed) await once(backendSession, 'close');
    } finally {
      hook.disable();
    }
  });
});
