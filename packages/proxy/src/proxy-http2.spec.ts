import { status } from '@grpc/grpc-js';
import { callEcho, echoRequest, startEchoServer, type EchoServerHandle } from '@grpc-proxy/testing';
import { parseConfig } from './config/load';
import { createLogger } from './logging';
import { startProxy, SHUTDOWN_MESSAGE, type ProxyHandle } from './proxy';
import { echoClients, expectDrainingCalls, openRunningStream } from './test-support/echo-clients';

describe('startProxy on the http2 engine', () => {
  let backend: EchoServerHandle | undefined;
  let proxy: ProxyHandle | undefined;
  const clients = echoClients();

  afterEach(async () => {
    clients.closeAll();
    await proxy?.close(0);
    await backend?.close();
    backend = undefined;
    proxy = undefined;
  });

  async function start(extra = '') {
    backend = await startEchoServer({ name: 'backend' });
    const config = parseConfig(
      `engine: http2\nlisten: [127.0.0.1:0, 127.0.0.1:0]\nbackends: [{ name: a, targets: ["${backend.address}"] }]\n${extra}`,
      'test',
      __dirname,
    );
    proxy = await startProxy(config, { logger: createLogger({ level: 'silent' }) });
    return proxy;
  }

  it('listens on every address and counts each call in the metrics', async () => {
    const { addresses, metrics } = await start();
    expect(addresses).toHaveLength(2);
    for (const address of addresses) {
      const { status: ended, responses } = await callEcho(clients.connect(address), echoRequest());
      expect([ended.code, responses[0]?.serverName]).toEqual([status.OK, 'backend']);
    }
    const echoCalls = 'grpc_service="grpc_proxy.testing.v1.EchoService",grpc_method="Echo"';
    expect(await metrics.registry.metrics()).toContain(
      `grpc_proxy_calls_total{${echoCalls},backend="a",target="${backend!.address}",grpc_code="OK"} 2`,
    );
  });

  it('refuses messages over maxMessageBytes', async () => {
    const { address } = await start('limits: { maxMessageBytes: 1000 }');
    const tooBig = await callEcho(
      clients.connect(address),
      echoRequest({ payload: Buffer.alloc(2000) }),
    );
    expect(tooBig.status.code).toBe(status.RESOURCE_EXHAUSTED);
  });

  it('drains: a running stream completes, new calls are refused, not ready meanwhile', async () => {
    const { address } = await start();
    const session = await openRunningStream(clients.connect(address));
    const closing = proxy!.close(30000);
    expect(proxy!.notReadyReason()).toBe('draining');

    await expectDrainingCalls(clients.connect(address), session);
    expect(await closing).toEqual({ inFlightAtStart: 1, endedByProxy: 0 });
  });

  it('ends the calls still running at the drain timeout with UNAVAILABLE', async () => {
    const { address } = await start();
    const session = await openRunningStream(clients.connect(address));
    const summary = await proxy!.close(100);
    const outcome = await session.outcome;
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.UNAVAILABLE,
      SHUTDOWN_MESSAGE,
    ]);
    expect(summary).toEqual({ inFlightAtStart: 1, endedByProxy: 1 });
  });
});
