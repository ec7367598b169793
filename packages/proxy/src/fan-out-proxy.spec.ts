/**
 * `routes[].fanOut` through `startProxy` on both engines: a server-streaming call and a unary
 * merge over three echo backends, a leg that cannot connect under `skip` and `first-error`, the
 * per-leg metric, and a reload that turns a route into a fan-out.
 */
import { Metadata, status } from '@grpc/grpc-js';
import type { CallReport } from '@grpc-proxy/handler';
import {
  callEcho,
  callServerStream,
  createEchoClient,
  echoRequest,
  startEchoServer,
  type EchoServerHandle,
  type EchoServiceClient,
} from '@grpc-proxy/testing';
import { parseConfig } from './config/load';
import { createLogger } from './logging';
import { createProxyMetrics, type ProxyMetrics } from './metrics';
import { startProxy, type ProxyHandle } from './proxy';
import { parsePrometheus, sumOf } from './test-support/prometheus';

const SERVICE = 'grpc_proxy.testing.v1.EchoService';

describe.each(['http2', 'grpc-js'] as const)('fan-out routes (%s engine)', (engine) => {
  let backends: EchoServerHandle[] = [];
  let proxy: ProxyHandle | undefined;
  let client: EchoServiceClient | undefined;
  /** Every call report, in the order calls ended; `waiters` hear each new one. */
  let reports: CallReport[] = [];
  let waiters: (() => void)[] = [];

  afterEach(async () => {
    client?.close();
    await proxy?.close(0);
    await Promise.all(backends.map((backend) => backend.close()));
    backends = [];
    proxy = client = undefined;
    reports = [];
    waiters = [];
  });

  /** Metrics whose observer also records each report (the metrics have it once this resolves). */
  function recordingMetrics(): ProxyMetrics {
    const metrics = createProxyMetrics({ processMetrics: false });
    const onCallEnd = metrics.observer.onCallEnd!.bind(metrics.observer);
    const observer = {
      ...metrics.observer,
      onCallEnd(report: CallReport) {
        onCallEnd(report);
        reports.push(report);
        for (const wake of waiters.splice(0)) wake();
      },
    };
    return { ...metrics, observer };
  }

  /** The `count`-th call report (1 = the first call that ended). */
  async function nthReport(count: number): Promise<CallReport> {
    while (reports.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
    return reports[count - 1];
  }

  function yaml(addresses: readonly string[], routes: string): string {
    return `engine: ${engine}
listen: 127.0.0.1:0
backends:
${addresses.map((address, i) => `  - { name: ${'abcd'[i]}, targets: ["${address}"] }`).join('\n')}
routes:
${routes}
defaultBackend: a
log: { level: silent }
`;
  }

  async function start(routes: string, extraAddresses: string[] = []): Promise<EchoServiceClient> {
    backends = await Promise.all(['a', 'b', 'c'].map((name) => startEchoServer({ name })));
    const addresses = [...backends.map((backend) => backend.address), ...extraAddresses];
    proxy = await startProxy(parseConfig(yaml(addresses, routes), 'test', __dirname), {
      logger: createLogger({ level: 'silent' }),
      metrics: recordingMetrics(),
    });
    client = createEchoClient(proxy.address);
    return client;
  }

  async function legCalls(where: Record<string, string>): Promise<number> {
    const text = await proxy!.metrics.registry.metrics();
    return sumOf(parsePrometheus(text), 'grpc_proxy_fanout_backend_calls_total', where);
  }

  it('streams every message of three backends to the client, and counts each leg', async () => {
    const echo = await start(
      `  - { method: /${SERVICE}/ServerStream, fanOut: { backends: [a, b, c], responses: stream } }`,
    );
    const outcome = await callServerStream(echo, echoRequest({ responseCount: 4 }));
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses).toHaveLength(12);
    const byServer = ['a', 'b', 'c'].map(
      (name) => outcome.responses.filter((response) => response.serverName === name).length,
    );
    expect(byServer).toEqual([4, 4, 4]);

    const report = await nthReport(1);
    expect([report.backend, report.code, report.messagesToClient]).toEqual([
      'fan-out(a,b,c)',
      status.OK,
      12,
    ]);
    expect(report.fanOut?.map((leg) => [leg.code, leg.messages])).toEqual([
      [status.OK, 4],
      [status.OK, 4],
      [status.OK, 4],
    ]);
    for (const name of ['a', 'b', 'c']) {
      const where = { fan_out: 'fan-out(a,b,c)', backend: name, grpc_code: 'OK' };
      expect(await legCalls(where)).toBe(1);
    }
  });

  it('merges a unary call: one message whose repeated field has every backend items', async () => {
    const echo = await start(
      `  - { method: /${SERVICE}/Echo, fanOut: { name: all, backends: [a, b, c], responses: merge } }`,
    );
    const metadata = new Metadata();
    metadata.set('x-shard-probe', 'p1');
    const outcome = await callEcho(echo, echoRequest({ echoMetadata: true }), { metadata });
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses).toHaveLength(1);
    const [merged] = outcome.responses;
    // Concatenated protobuf: repeated fields append, a scalar keeps the last backend's value.
    const probes = merged.requestMetadata.filter((entry) => entry.key === 'x-shard-probe');
    expect(probes.map((entry) => entry.value)).toEqual(['p1', 'p1', 'p1']);
    expect(merged.serverName).toBe('c');
    expect((await nthReport(1)).backend).toBe('all');
    expect(await legCalls({ fan_out: 'all', grpc_code: 'OK' })).toBe(3);
  });

  it('skip leaves out a backend that cannot be reached; first-error ends the call with it', async () => {
    // A port nothing listens on: the leg fails in the proxy (UNAVAILABLE).
    const closed = await startEchoServer({ name: 'gone' });
    const gone = closed.address;
    await closed.close();
    const echo = await start(
      `  - { method: /${SERVICE}/ServerStream, fanOut: { backends: [a, d, b], responses: stream, onError: skip } }
  - { method: /${SERVICE}/Echo, fanOut: { backends: [a, d], responses: merge } }`,
      [gone],
    );
    const skipped = await callServerStream(echo, echoRequest({ responseCount: 2 }));
    expect(skipped.status.code).toBe(status.OK);
    expect(skipped.responses.map((response) => response.serverName).sort()).toEqual([
      'a',
      'a',
      'b',
      'b',
    ]);
    const failed = await callEcho(echo, echoRequest({ holdUntilCancelled: true }));
    expect(failed.status.code).toBe(status.UNAVAILABLE);
    expect(failed.status.details).toMatch(/^grpc-proxy: .*\bd\//);
    const [first, second] = [await nthReport(1), await nthReport(2)];
    expect(first.fanOut?.map((leg) => leg.code)).toEqual([
      status.OK,
      status.UNAVAILABLE,
      status.OK,
    ]);
    expect(second.fanOut?.map((leg) => [leg.code, leg.proxyError])).toEqual([
      [status.CANCELLED, true],
      [status.UNAVAILABLE, true],
    ]);
    expect(await legCalls({ backend: 'd', grpc_code: 'UNAVAILABLE' })).toBe(2);
  });

  it('a reload turns a route into a fan-out for new calls', async () => {
    const echo = await start(`  - { service: ${SERVICE}, backend: b }`);
    expect((await callEcho(echo, echoRequest())).responses[0].serverName).toBe('b');
    const addresses = backends.map((backend) => backend.address);
    const next = `  - { service: ${SERVICE}, fanOut: { backends: [c, b], responses: merge } }`;
    await proxy!.reload(parseConfig(yaml(addresses, next), 'test', __dirname));
    const merged = await callEcho(echo, echoRequest({ payload: Buffer.from('x') }));
    expect(merged.status.code).toBe(status.OK);
    // Two payloads concatenated by the merge: protobuf keeps the last `payload`, `b`'s.
    expect([merged.responses[0].serverName, merged.responses[0].payload.toString()]).toEqual([
      'b',
      'x',
    ]);
    expect((await nthReport(2)).backend).toBe('fan-out(c,b)');
  });
});
