import { Client, Metadata, credentials, status } from '@grpc/grpc-js';
import { ProxyStatusError, type StreamDirector } from '@grpc-proxy/handler';
import {
  callRawUnary,
  directorRejectionCases,
  entriesFromMetadata,
  rejectionSeen,
  useProcessWarnings,
} from '@grpc-proxy/testing';
import { useHarness } from './test-support/harness';

const ECHO = '/grpc_proxy.testing.v1.EchoService/Echo';
const WHAT_TO_PASS =
  'give the http2 engine { name, target } or a backend of createBackend from @grpc-proxy/director (it has a target)';

describe('director rejections and invalid routes (same rules as the grpc-js engine)', () => {
  const h = useHarness({ directorTimeoutMs: 200 });
  const warnings = useProcessWarnings();

  it.each(directorRejectionCases(ProxyStatusError))('$name', async ({ director, expected }) => {
    h.director = director as StreamDirector;
    const outcome = await callRawUnary(h.client, ECHO, Buffer.from('x'));
    const [report] = await h.reported(1);
    expect(rejectionSeen(outcome.status, report, warnings)).toEqual(expected(ECHO));
    expect(report.error).toBe(expected(ECHO).report.error);
    expect((await h.backend.callCounts()).started).toBe(0);
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
