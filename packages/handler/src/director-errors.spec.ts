import { Metadata, Server, status, type ServerDuplexStream } from '@grpc/grpc-js';
import {
  callRawUnary,
  directorRejectionCases,
  rejectionSeen,
  useProcessWarnings,
} from '@grpc-proxy/testing';
import { deserializeRaw, serializeRaw } from '@grpc-proxy/codec';
import { createBackendClient } from './backend-client';
import type { StreamDirector } from './contracts';
import { transparentHandler } from './handler';
import { ProxyStatusError } from './status-error';
import { eventually } from './test-support/grpc-fixtures';
import { useBackend, useHarness } from './test-support/harness';
import { ECHO } from './test-support/test-backend';

describe('director errors and proxy failures', () => {
  const h = useHarness({ directorTimeoutMs: 200 });
  const warnings = useProcessWarnings();

  it.each(directorRejectionCases(ProxyStatusError))('$name', async ({ director, expected }) => {
    h.director = director as StreamDirector;
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('x'));
    await eventually(() => h.reports.length === 1, 'observer heard the end');
    const seen = rejectionSeen(outcome.status, h.reports[0], warnings);
    expect(seen).toEqual(expected(`${ECHO}/Unary`));
    expect(h.reports[0].error).toBe(expected(`${ECHO}/Unary`).report.error);
    expect(h.backend.seen).toHaveLength(0);
  });

  it('turns a route without a backend into INTERNAL naming the proxy, with a warning', async () => {
    h.director = () => ({ backend: 42 }) as never;
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('x'));
    const why = 'route.backend must be a grpc-js Client, Channel or Backend, got 42';
    expect(outcome.status.code).toBe(status.INTERNAL);
    expect(outcome.status.details).toBe(`grpc-proxy: director returned an invalid route: ${why}`);
    await eventually(() => h.reports.length === 1, 'observer heard the end');
    expect(h.reports[0].error).toEqual(new TypeError(why));
    expect(warnings).toEqual([
      `grpc-proxy: director returned an invalid route for ${ECHO}/Unary: ${(h.reports[0].error as Error).stack}`,
    ]);
  });

  it('ends a call whose director never settles after directorTimeoutMs, with UNAVAILABLE', async () => {
    let signal: AbortSignal | undefined;
    h.director = (call) => {
      signal = call.signal;
      return new Promise(() => undefined);
    };
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('x'));
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.UNAVAILABLE,
      'grpc-proxy: director chose no backend within 200 ms',
    ]);
    expect(signal?.aborted).toBe(true);
    await eventually(() => h.reports.length === 1, 'observer heard the end');
    expect(h.reports[0]).toMatchObject({ code: status.UNAVAILABLE, proxyError: true });
    expect(h.reports[0].error).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it('ends a call whose director never settles by the client deadline when there is no directorTimeoutMs', async () => {
    // The harness sets directorTimeoutMs 200; a 100 ms deadline comes first.
    h.director = () => new Promise(() => undefined);
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('x'), {
      options: { deadline: Date.now() + 100 },
    });
    expect(outcome.status.code).toBe(status.DEADLINE_EXCEEDED);
    await eventually(() => h.reports.length === 1, 'observer heard the end');
    expect(h.reports[0].code).toBe(status.DEADLINE_EXCEEDED);
  });

  it('releases a route that arrives after the client left, with the status the client got', async () => {
    let resolveRoute: (route: ReturnType<typeof h.route>) => void = () => undefined;
    let signal: AbortSignal | undefined;
    h.director = (call) => {
      signal = call.signal;
      return new Promise((resolve) => (resolveRoute = resolve));
    };
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('x'), {
      options: { deadline: Date.now() + 50 },
    });
    expect(outcome.status.code).toBe(status.DEADLINE_EXCEEDED);
    await eventually(() => signal?.aborted === true, 'director signal aborted');
    resolveRoute(h.route());
    await eventually(() => h.releases.length > 0, 'late route released');
    expect(h.releases.map((s) => s.code)).toEqual([status.DEADLINE_EXCEEDED]);
    expect(h.backend.seen).toHaveLength(0);
  });

  it('reports an unreachable backend as UNAVAILABLE naming the proxy and the backend', async () => {
    const unreachable = createBackendClient('127.0.0.1:1');
    h.director = () => ({ backend: unreachable });
    try {
      const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('x'));
      expect(outcome.status.code).toBe(status.UNAVAILABLE);
      // The first attempt fails as the channel first tries to connect; the transparent retry on
      // the same backend waits for its next attempt (backendConnectTimeoutMs) in vain.
      expect(outcome.status.details).toMatch(
        /^grpc-proxy: backend dns:127\.0\.0\.1:1 unavailable: not connected within 1000 ms: No connection established/,
      );
      await eventually(() => h.reports.length === 1, 'observer heard the end');
      expect(h.reports[0]).toMatchObject({
        proxyError: true,
        backend: 'dns:127.0.0.1:1',
        retries: 1,
      });
    } finally {
      unreachable.close();
    }
  });

  it('never rewrites a backend UNAVAILABLE status', async () => {
    const md = new Metadata();
    md.set('x-fail-code', String(status.UNAVAILABLE));
    md.set('x-send-headers', 'no');
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('x'), {
      metadata: md,
    });
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.UNAVAILABLE,
      'failure 14: with spaces, ünïcode & %',
    ]);
    await eventually(() => h.reports.length === 1, 'observer heard the end');
    expect(h.reports[0].proxyError).toBe(false);
  });
});

describe('the error the proxy ends a call with', () => {
  const h = useBackend();
  const warnings = useProcessWarnings();

  it("keeps the director's error as its cause", async () => {
    const boom = new Error('boom');
    const handler = transparentHandler(() => {
      throw boom;
    });
    const ended: unknown[] = [];
    const server = new Server();
    server.register(
      `${ECHO}/Unary`,
      (stream: ServerDuplexStream<Buffer, Buffer>) => {
        stream.on('error', (error) => ended.push(error));
        handler(stream);
      },
      serializeRaw,
      deserializeRaw,
      'bidi',
    );
    const { client } = await h.serve(server);
    const outcome = await callRawUnary(client, `${ECHO}/Unary`, Buffer.from('x'));
    expect(outcome.status.code).toBe(status.INTERNAL);
    expect(ended).toHaveLength(1);
    expect(ended[0]).toBeInstanceOf(ProxyStatusError);
    expect(ended[0]).toMatchObject({
      code: status.INTERNAL,
      details: 'grpc-proxy: director failed: boom',
      cause: boom,
    });
    expect(warnings).toHaveLength(1);
  });
});
