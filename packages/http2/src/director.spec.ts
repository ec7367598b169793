import { Client, Metadata, credentials, status } from '@grpc/grpc-js';
import { ProxyStatusError } from '@grpc-proxy/handler';
import { callRawUnary, entriesFromMetadata } from '@grpc-proxy/testing';
import { useHarness, useWarnings } from './test-support/harness';

const ECHO = '/grpc_proxy.testing.v1.EchoService/Echo';
const WHAT_TO_PASS =
  'give the http2 engine { name, target } or a backend of createBackend from @grpc-proxy/director (it has a target)';

describe('director rejections and invalid routes (same rules as the grpc-js engine)', () => {
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
    const outcome = await callRawUnary(h.client, ECHO, Buffer.from('x'));
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.PERMISSION_DENIED,
      'not for you: ünïcode %20',
    ]);
    expect(outcome.status.metadata.get('x-why')).toEqual(['no-route']);
    const [report] = await h.reported(1);
    expect(report).toMatchObject({
      code: status.PERMISSION_DENIED,
      proxyError: true,
      backend: undefined,
    });
    expect(report.error).toBe(rejection);
    expect((await h.backend.callCounts()).started).toBe(0);
    expect(warnings).toEqual([]);
  });

  it('accepts a rejected plain object carrying a status code', async () => {
    h.director = async () => Promise.reject({ code: status.RESOURCE_EXHAUSTED, details: 'quota' });
    const outcome = await callRawUnary(h.client, ECHO, Buffer.from('x'));
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.RESOURCE_EXHAUSTED,
      'quota',
    ]);
  });

  it('turns any other error into INTERNAL naming the proxy, kept for the observer and a warning', async () => {
    const boom = new Error('boom');
    h.director = async () => Promise.reject(boom);
    const outcome = await callRawUnary(h.client, ECHO, Buffer.from('x'));
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.INTERNAL,
      'grpc-proxy: director failed: boom',
    ]);
    const [report] = await h.reported(1);
    expect(report).toMatchObject({ code: status.INTERNAL, proxyError: true });
    expect(report.error).toBe(boom);
    expect(warnings).toEqual([`grpc-proxy: director failed on ${ECHO}: ${boom.stack}`]);
  });

  it('turns a missing route into INTERNAL naming the proxy', async () => {
    h.director = () => undefined as never;
    const outcome = await callRawUnary(h.client, ECHO, Buffer.from('x'));
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.INTERNAL,
      'grpc-proxy: director returned no route (undefined)',
    ]);
  });

  it('refuses a grpc-js Client as backend, saying what to pass instead', async () => {
    const grpcClient = new Client(h.backend.address, credentials.createInsecure());
    h.director = () => ({ backend: grpcClient });
    try {
      const outcome = await callRawUnary(h.client, ECHO, Buffer.from('x'));
      const why = `route.backend is a grpc-js Client, which has no target to connect to: ${WHAT_TO_PASS}`;
      expect([outcome.status.code, outcome.status.details]).toEqual([
        status.INTERNAL,
        `grpc-proxy: director returned an invalid route: ${why}`,
      ]);
      const [report] = await h.reported(1);
      expect(report.error).toEqual(new TypeError(why));
      expect(warnings).toEqual([
        `grpc-proxy: director returned an invalid route for ${ECHO}: ${(report.error as Error).stack}`,
      ]);
    } finally {
      grpcClient.close();
    }
  });

  it('refuses a grpc-js Channel and an object without a target, saying what to pass instead', async () => {
    const grpcClient = new Client(h.backend.address, credentials.createInsecure());
    try {
      h.director = () => ({ backend: grpcClient.getChannel() });
      const channel = await callRawUnary(h.client, ECHO, Buffer.from('x'));
      expect(channel.status.details).toBe(
        `grpc-proxy: director returned an invalid route: route.backend is a grpc-js Channel, which the http2 engine cannot use: ${WHAT_TO_PASS}`,
      );
      h.director = () => ({ backend: { name: 'nameless' } }) as never;
      const noTarget = await callRawUnary(h.client, ECHO, Buffer.from('x'));
      expect([noTarget.status.code, noTarget.status.details]).toEqual([
        status.INTERNAL,
        `grpc-proxy: director returned an invalid route: route.backend has no target: ${WHAT_TO_PASS}`,
      ]);
    } finally {
      grpcClient.close();
    }
  });

  it('refuses grpc-js call credentials on a route rather than drop them', async () => {
    const callCredentials = credentials.createFromMetadataGenerator((_options, callback) =>
      callback(null, new Metadata()),
    );
    h.director = () => ({ ...h.route(), callOptions: { credentials: callCredentials } });
    const outcome = await callRawUnary(h.client, ECHO, Buffer.from('x'));
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.INTERNAL,
      'grpc-proxy: director returned an invalid route: route.callOptions.credentials is not supported by the http2 engine: give the metadata in route.metadata',
    ]);
    expect((await h.backend.callCounts()).started).toBe(0);
  });

  it('ends a call whose director never settles after directorTimeoutMs, with UNAVAILABLE', async () => {
    let signal: AbortSignal | undefined;
    h.director = (call) => {
      signal = call.signal;
      return new Promise(() => undefined);
    };
    const outcome = await callRawUnary(h.client, ECHO, Buffer.from('x'));
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.UNAVAILABLE,
      'grpc-proxy: director chose no backend within 200 ms',
    ]);
    expect(signal?.aborted).toBe(true);
    const [report] = await h.reported(1);
    expect(report).toMatchObject({ code: status.UNAVAILABLE, proxyError: true, error: undefined });
  });

  it('releases a route that arrives after the client left, with the status the client got', async () => {
    let resolveRoute: (route: ReturnType<typeof h.route>) => void = () => undefined;
    h.director = () => new Promise((resolve) => (resolveRoute = resolve));
    const outcome = await callRawUnary(h.client, ECHO, Buffer.from('x'), {
      options: { deadline: Date.now() + 50 },
    });
    expect(outcome.status.code).toBe(status.DEADLINE_EXCEEDED);
    await h.reported(1);
    const released = new Promise<number>((resolve) =>
      resolveRoute({ ...h.route(), release: (final) => resolve(final.code) }),
    );
    expect(await released).toBe(status.DEADLINE_EXCEEDED);
    expect((await h.backend.callCounts()).started).toBe(0);
  });

  it('gives the director the call: method, service, metadata, peer, authority, deadline', async () => {
    const seen: unknown[] = [];
    h.director = (call) => {
      seen.push({
        method: call.method,
        service: call.service,
        tenant: call.metadata.get('x-tenant'),
        te: call.metadata.get('te'),
        peer: /^127\.0\.0\.1:\d+$/.test(call.peer),
        authority: call.authority,
        deadline: +call.deadline > Date.now() && +call.deadline <= Date.now() + 5000,
      });
      return h.route();
    };
    const metadata = new Metadata();
    metadata.set('x-tenant', 'blue');
    const outcome = await callRawUnary(h.client, ECHO, Buffer.from(''), {
      metadata,
      options: { deadline: Date.now() + 5000 },
    });
    expect(outcome.status.code).toBe(status.OK);
    expect(seen).toEqual([
      {
        method: ECHO,
        service: 'grpc_proxy.testing.v1.EchoService',
        tenant: ['blue'],
        te: [],
        peer: true,
        authority: h.proxy.address,
        deadline: true,
      },
    ]);
    const record = await h.backend.waitForCall(() => true, {
      timeoutMs: 5000,
      description: 'the call',
    });
    expect(entriesFromMetadata(record.metadata).filter((e) => e.key === 'x-tenant')).toHaveLength(
      1,
    );
  });
});
