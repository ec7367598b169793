import { Metadata, status } from '@grpc/grpc-js';
import { callEcho, createEchoClient, echoRequest, startEchoServer } from '@grpc-proxy/testing';
import type { EchoServerHandle, EchoServiceClient } from '@grpc-proxy/testing';
import type { TargetHealthChange } from './backends';
import { parseConfig } from './config/load';
import { createLogger } from './logging';
import { limitOptions } from './limits';
import { startProxy, type ProxyHandle } from './proxy';

describe('startProxy', () => {
  let backends: EchoServerHandle[] = [];
  let proxy: ProxyHandle | undefined;
  let client: EchoServiceClient | undefined;

  afterEach(async () => {
    client?.close();
    await proxy?.close(0);
    await Promise.all(backends.map((backend) => backend.close()));
    backends = [];
    proxy = undefined;
    client = undefined;
  });

  let healthChanges: TargetHealthChange[] = [];
  let onHealthChange = () => undefined as void;

  async function start(yaml: (addresses: string[]) => string, names: string[]) {
    backends = await Promise.all(names.map((name) => startEchoServer({ name })));
    const config = parseConfig(yaml(backends.map((backend) => backend.address)), 'test', __dirname);
    healthChanges = [];
    onHealthChange = () => undefined;
    proxy = await startProxy(config, {
      logger: createLogger({ level: 'silent' }),
      onHealthChange: (change) => {
        healthChanges.push(change);
        onHealthChange();
      },
    });
    client = createEchoClient(proxy.address);
    return client;
  }

  it('routes by metadata, strips the routing key, and sends the rest to the default backend', async () => {
    const echo = await start(
      ([blue, main]) => `
listen: 127.0.0.1:0
backends:
  - { name: blue, targets: ["${blue}"] }
  - { name: main, targets: ["${main}"] }
routes:
  - { metadata: { x-tenant: blue }, backend: blue }
defaultBackend: main
metadata: { strip: [x-tenant] }
`,
      ['blue', 'main'],
    );
    const tenant = new Metadata();
    tenant.set('x-tenant', 'blue');
    const routed = await callEcho(echo, echoRequest({ echoMetadata: true }), { metadata: tenant });
    expect(routed.responses[0]?.serverName).toBe('blue');
    expect(routed.responses[0]?.requestMetadata.map((entry) => entry.key)).not.toContain(
      'x-tenant',
    );
    expect((await callEcho(echo, echoRequest())).responses[0]?.serverName).toBe('main');
  });

  it('answers UNIMPLEMENTED when no route matches and there is no default', async () => {
    const echo = await start(
      ([a, b]) => `
listen: 127.0.0.1:0
backends: [{ name: a, targets: ["${a}"] }, { name: b, targets: ["${b}"] }]
routes: [{ service: acme.Other, backend: a }, { method: /acme.X/Y, backend: b }]
`,
      ['a', 'b'],
    );
    const { status: ended } = await callEcho(echo, echoRequest());
    expect([ended.code, ended.details]).toEqual([
      status.UNIMPLEMENTED,
      'grpc-proxy: no route for /grpc_proxy.testing.v1.EchoService/Echo',
    ]);
  });

  it('spreads calls round-robin over targets and skips a NOT_SERVING one', async () => {
    const echo = await start(
      ([a, b]) => `
listen: 127.0.0.1:0
backends:
  - { name: pool, targets: ["${a}", "${b}"], healthCheck: { intervalMs: 100 } }
`,
      ['a', 'b'],
    );
    const names = async (count: number) => {
      const served: string[] = [];
      for (let i = 0; i < count; i++)
        served.push((await callEcho(echo, echoRequest())).responses[0]?.serverName ?? 'error');
      return served.sort();
    };
    expect(await names(4)).toEqual(['a', 'a', 'b', 'b']);
    expect(proxy?.notReadyReason()).toBeUndefined();

    expect(healthChanges.map((change) => change.status)).toEqual(['SERVING', 'SERVING']);

    const notServing = new Promise<void>((resolve) => {
      onHealthChange = () => healthChanges.length === 3 && resolve();
    });
    backends[0].setHealth('', 'NOT_SERVING');
    await notServing;
    expect(healthChanges[2]).toEqual({
      backend: 'pool',
      target: backends[0].address,
      status: 'NOT_SERVING',
      previous: 'SERVING',
    });
    expect(await names(3)).toEqual(['b', 'b', 'b']);
    const metrics = (await proxy?.metrics.registry.metrics()) ?? '';
    expect(metrics).toContain(
      `grpc_proxy_backend_healthy{backend="pool",target="${backends[0].address}"} 0`,
    );
    expect(metrics).toContain(
      `grpc_proxy_backend_healthy{backend="pool",target="${backends[1].address}"} 1`,
    );
    // The call series carry the same backend and target labels as the health gauge.
    const echoCalls = 'grpc_service="grpc_proxy.testing.v1.EchoService",grpc_method="Echo"';
    for (const [target, count] of [
      [backends[0].address, 2],
      [backends[1].address, 5],
    ]) {
      expect(metrics).toContain(
        `grpc_proxy_calls_total{${echoCalls},backend="pool",target="${target}",grpc_code="OK"} ${count}`,
      );
    }
  });

  it('sends every call to the first serving target with first_healthy, and says when none serves', async () => {
    const echo = await start(
      ([a, b]) => `
listen: 127.0.0.1:0
backends:
  - { name: pool, targets: ["${a}", "${b}"], balancing: first_healthy, healthCheck: true }
`,
      ['a', 'b'],
    );
    for (let i = 0; i < 3; i++) {
      expect((await callEcho(echo, echoRequest())).responses[0]?.serverName).toBe('a');
    }
    const bothDown = new Promise<void>((resolve) => {
      onHealthChange = () =>
        healthChanges.filter((change) => change.status === 'NOT_SERVING').length === 2 && resolve();
    });
    backends[0].setHealth('', 'NOT_SERVING');
    backends[1].setHealth('', 'NOT_SERVING');
    await bothDown;
    expect(proxy?.notReadyReason()).toBe('no serving target in backend pool');
    const { status: ended } = await callEcho(echo, echoRequest());
    expect(ended.code).toBe(status.UNAVAILABLE);
    expect(ended.details).toMatch(
      /^grpc-proxy: no backend available for \/grpc_proxy.testing.v1.EchoService\/Echo in pool /,
    );
  });

  it('adds x-forwarded-for when asked, and refuses messages over maxMessageBytes', async () => {
    const echo = await start(
      ([a]) => `
listen: 127.0.0.1:0
backends: [{ name: a, targets: ["${a}"] }]
metadata: { forwardedFor: true }
limits: { maxMessageBytes: 1000 }
`,
      ['a'],
    );
    const [response] = (await callEcho(echo, echoRequest({ echoMetadata: true }))).responses;
    const forwarded = response?.requestMetadata.filter((entry) => entry.key === 'x-forwarded-for');
    expect(forwarded?.map((entry) => entry.value)).toEqual(['127.0.0.1']);
    const tooBig = await callEcho(echo, echoRequest({ payload: Buffer.alloc(2000) }));
    expect(tooBig.status.code).toBe(status.RESOURCE_EXHAUSTED);
  });

  it('reports draining as not ready', async () => {
    await start(([a]) => `listen: 127.0.0.1:0\nbackends: [{ name: a, targets: ["${a}"] }]`, ['a']);
    expect(proxy?.notReadyReason()).toBeUndefined();
    const closing = proxy?.close(0);
    expect(proxy?.notReadyReason()).toBe('draining');
    expect(await closing).toEqual({ inFlightAtStart: 0, endedByProxy: 0 });
  });
});

describe('limitOptions', () => {
  // Client limits the handler applies itself on grpc-js, the http2 engine's backend budget, and
  // the mirror timeout (an engine option of its own, not one of these).
  const http2Only = {
    maxResetsPerSecond: 200,
    maxBufferedBytes: 4194304,
    stallTimeoutMs: 30000,
    backendResetBurst: 500,
    backendResetsPerSecond: 30,
    mirrorTimeoutMs: 10000,
  };

  it('passes the message limit as typed options and the rest as grpc-js keys', () => {
    const limits = {
      maxMessageBytes: 5000,
      maxConcurrentStreams: 7,
      idleTimeoutMs: 60000,
      ...http2Only,
      keepalive: { timeMs: 30000, timeoutMs: 9000 },
    };
    const keepalive = { 'grpc.keepalive_time_ms': 30000, 'grpc.keepalive_timeout_ms': 9000 };
    expect(limitOptions(limits)).toEqual({
      messages: { maxReceiveMessageLength: 5000, maxSendMessageLength: 5000 },
      channelOptions: keepalive,
      serverOptions: { ...keepalive, 'grpc.max_connection_idle_ms': 60000 },
      clientLimits: {
        maxConcurrentStreams: 7,
        maxClientResetsPerSecond: http2Only.maxResetsPerSecond,
        maxClientBufferBytes: http2Only.maxBufferedBytes,
        clientStallTimeoutMs: http2Only.stallTimeoutMs,
      },
    });
    const noIdleTimeout = {
      maxMessageBytes: 1,
      maxConcurrentStreams: 100,
      idleTimeoutMs: 0,
      ...http2Only,
      keepalive: {},
    };
    expect(limitOptions(noIdleTimeout)).toEqual({
      messages: { maxReceiveMessageLength: 1, maxSendMessageLength: 1 },
      channelOptions: {},
      serverOptions: {},
      clientLimits: expect.objectContaining({ maxConcurrentStreams: 100 }) as unknown,
    });
  });
});
