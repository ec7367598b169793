import { Metadata, Server, status, type ServerDuplexStream } from '@grpc/grpc-js';
import { callRawUnary } from '@grpc-proxy/testing';
import { deserializeRaw, serializeRaw } from '@grpc-proxy/codec';
import { createBackendClient } from './backend-client';
import { transparentHandler } from './handler';
import { ProxyStatusError } from './status-error';
import { entries, eventually } from './test-support/grpc-fixtures';
import { useBackend, useHarness, useWarnings } from './test-support/harness';
import { ECHO } from './test-support/test-backend';

describe('director errors and proxy failures', () => {
  const h = useHarness({ directorTimeoutMs: 200 });
  const warnings = useWarnings();

  it('gives the client exactly the code, message and trailers of a ProxyStatusError', async () => {
    const trailers = new Metadata();
    trailers.set('x-why', 'no-route');
    const rejection = new ProxyStatusError(
      status.PERMISSION_DENIED,
      'not for you: ünïcode %20',
      trailers,
    );
    h.director = () => {
      throw rejection;
    };
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('x'));
    expect(outcome.status.code).toBe(status.PERMISSION_DENIED);
    expect(outcome.status.details).toBe('not for you: ünïcode %20');
    expect(entries(outcome.status.metadata)).toMatchObject({ 'x-why': ['no-route'] });
    expect(h.backend.seen).toHaveLength(0);
    await eventually(() => h.reports.length === 1, 'observer heard the end');
    expect(h.reports[0]).toMatchObject({
      code: status.PERMISSION_DENIED,
      proxyError: true,
      backend: undefined,
    });
    expect(h.reports[0].error).toBe(rejection);
    expect(warnings).toEqual([]);
  });

  it('accepts any rejected value carrying a status code, such as a grpc-js ServiceError shape', async () => {
    h.director = async () => Promise.reject({ code: status.RESOURCE_EXHAUSTED, details: 'quota' });
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('x'));
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.RESOURCE_EXHAUSTED,
      'quota',
    ]);
  });

  it('turns any other thrown error into INTERNAL naming the proxy, and keeps it for the observer and a warning', async () => {
    const boom = new Error('boom');
    h.director = async () => Promise.reject(boom);
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('x'));
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.INTERNAL,
      'grpc-proxy: director failed: boom',
    ]);
    await eventually(() => h.reports.length === 1, 'observer heard the end');
    expect(h.reports[0]).toMatchObject({ code: status.INTERNAL, proxyError: true });
    expect(h.reports[0].error).toBe(boom);
    expect(warnings).toEqual([`grpc-proxy: director failed on ${ECHO}/Unary: ${boom.stack}`]);
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

  it('turns a missing route into INTERNAL naming the proxy', async () => {
    h.director = () => undefined as never;
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('x'));
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.INTERNAL,
      'grpc-proxy: director returned no route (undefined)',
    ]);
    await eventually(() => h.reports.length === 1, 'observer heard the end');
    expect(h.reports[0]).toMatchObject({ proxyError: true, error: undefined });
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
      expect(outcome.status.details).toMatch(
        /^grpc-proxy: backend dns:127\.0\.0\.1:1 unavailable: No connection established/,
      );
      await eventually(() => h.reports.length === 1, 'observer heard the end');
      expect(h.reports[0]).toMatchObject({ proxyError: true, backend: 'dns:127.0.0.1:1' });
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
  const warnings = useWarnings();

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
