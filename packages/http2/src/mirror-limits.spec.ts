/**
 * Mirror limits on the http2 engine: a mirror that never reads costs the proxy at most
 * `MIRROR_BUFFER_BYTES` (plus what its flow-control window took) before its copy is dropped,
 * while the primary call goes on with every message; a copy still running `mirrorTimeoutMs`
 * after its call ended is dropped; mirrored calls leave no stream and no timer behind.
 */
import { createHook } from 'node:async_hooks';
import { constants, type ServerHttp2Stream } from 'node:http2';
import { status } from '@grpc/grpc-js';
import { MIRROR_BUFFER_BYTES } from '@grpc-proxy/handler';
import {
  ECHO_SERVICE_NAME,
  callBidi,
  callClientStream,
  callEcho,
  callServerStream,
  echoRequest,
  openBidi,
} from '@grpc-proxy/testing';
import { once } from './test-support/held-backend';
import { useMirrorBench } from './test-support/mirror-proxy';
import { startRawBackend, type RawBackend } from './test-support/raw-h2';

const method = (name: string): string => `/${ECHO_SERVICE_NAME}/${name}`;
/** 32 KiB payloads: a message is this plus its protobuf tag and length, plus the 5-byte prefix. */
const PAYLOAD = 32_768;
const MESSAGE_BYTES = PAYLOAD + 4 + 5;
/** The mirror's stream window (HTTP/2 default): what its transport may take unread. */
const WINDOW = 65_535;
const MESSAGES = 40; // past the budget and the window

describe('mirror limits', () => {
  const t = useMirrorBench();
  const start = t.start;

  /** A mirror that takes each stream and never reads it (nor answers). */
  async function stuckMirror(): Promise<RawBackend> {
    const stuck = await startRawBackend(() => undefined);
    t.raw = stuck;
    t.mirror = { backend: { name: 'stuck', target: stuck.target } };
    return stuck;
  }

  const dropped = (name: string, details: string) => ({
    method: method(name),
    backend: 'stuck',
    outcome: 'dropped',
    code: status.CANCELLED,
    details,
  });
  const behind = `mirror stuck fell behind by more than ${MIRROR_BUFFER_BYTES} bytes`;

  it('a mirror that never reads is dropped past the budget; the call gets every message', async () => {
    await start();
    const stuck = await stuckMirror();
    const session = openBidi(t.echo);
    let droppedAfter = 0;
    for (let i = 1; i <= MESSAGES; i++) {
      session.call.write(echoRequest({ payload: Buffer.alloc(PAYLOAD, i) }));
      const response = await session.nextResponse();
      expect(response.payload).toEqual(Buffer.alloc(PAYLOAD, i));
      // The copy is dropped synchronously with the write that went past the budget, before the
      // primary backend even got that message: this response says whether message i did it.
      if (droppedAfter === 0 && t.proxy.mirrors.length === 1) droppedAfter = i;
    }
    session.call.end();
    const outcome = await session.outcome;
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses).toHaveLength(MESSAGES);
    expect(t.proxy.mirrors).toEqual([dropped('Bidi', behind)]);
    // Held by the proxy when dropped: past the budget, within the budget, the window its
    // transport took and the one message that went past.
    expect(droppedAfter * MESSAGE_BYTES).toBeGreaterThan(MIRROR_BUFFER_BYTES);
    expect(droppedAfter * MESSAGE_BYTES).toBeLessThanOrEqual(
      MIRROR_BUFFER_BYTES + WINDOW + MESSAGE_BYTES,
    );
    const copy = stuck.streams[0];
    if (!copy.closed) await once(copy, 'close');
    expect(copy.rstCode).toBe(constants.NGHTTP2_CANCEL);
    const [primary] = t.pair.a.calls;
    expect(primary.requests).toHaveLength(MESSAGES);
    await t.proxy.callEnds(1);
    expect(t.proxy.mirrors).toHaveLength(1);
  });

  it('a client stream written at once goes through whole while its stuck copy is dropped', async () => {
    await start();
    await stuckMirror();
    const requests = Array.from({ length: 60 }, (_, i) =>
      echoRequest({ payload: Buffer.alloc(PAYLOAD, i) }),
    );
    const outcome = await callClientStream(t.echo, requests);
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses).toHaveLength(1);
    expect(t.pair.a.calls[0].requests).toHaveLength(60);
    expect(await t.proxy.mirrorEnds(1)).toEqual([dropped('ClientStream', behind)]);
  });

  it.each([
    [50, 'mirror still running 50 ms after the call ended'],
    [0, 'mirror still running 0 ms after the call ended'],
  ])(
    'a copy still running %i ms after its call ended is dropped',
    async (mirrorTimeoutMs, details) => {
      await start({ mirrorTimeoutMs });
      // Reads everything, never answers.
      t.raw = await startRawBackend((stream: ServerHttp2Stream) => stream.resume());
      t.mirror = { backend: { name: 'stuck', target: t.raw.target } };
      const outcome = await callEcho(t.echo, echoRequest({ payload: Buffer.from('x') }));
      expect(outcome.status.code).toBe(status.OK);
      expect(await t.proxy.mirrorEnds(1)).toEqual([dropped('Echo', details)]);
      const copy = t.raw.streams[0];
      if (!copy.closed) await once(copy, 'close');
      expect(copy.rstCode).toBe(constants.NGHTTP2_CANCEL);
    },
  );

  it('mirrored calls of every kind leave no stream and no timer', async () => {
    await start(); // the default mirrorTimeoutMs (10 s): a timer not cleared would be seen
    t.mirror = { backend: { name: 'b', target: t.pair.b.address } };
    await callEcho(t.echo, echoRequest()); // connections up before counting
    await t.proxy.mirrorEnds(1);
    const live = new Set<number>();
    const hook = createHook({
      init: (id, type) => {
        if (type === 'Timeout') live.add(id);
      },
      destroy: (id) => live.delete(id),
    }).enable();
    try {
      const request = echoRequest({ payload: Buffer.from('m'), responseCount: 2 });
      const rounds = Array.from({ length: 10 }, () => [
        callEcho(t.echo, request),
        callServerStream(t.echo, request),
        callClientStream(t.echo, [request, request]),
        callBidi(t.echo, [request, request]),
      ]).flat();
      const outcomes = await Promise.all(rounds);
      expect(outcomes.map((o) => o.status.code)).toEqual(rounds.map(() => status.OK));
      const reports = await t.proxy.mirrorEnds(41);
      expect(reports.filter((r) => r.outcome === 'completed' && r.code === status.OK)).toHaveLength(
        41,
      );
      await t.proxy.callEnds(41);
      expect(t.proxy.proxy.activeCalls).toBe(0);
      // grpc-js (client and servers, same process) keeps a few timers of its own; a mirror
      // timer left per call would add forty.
      for (let polls = 0; polls < 500 && live.size >= 10; polls++) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(live.size).toBeLessThan(10);
    } finally {
      hook.disable();
    }
    expect(t.pair.b.openStreams()).toEqual([]);
  });
});
