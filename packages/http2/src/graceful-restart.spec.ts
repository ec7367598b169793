/**
 * Backends restarted gracefully (grpc-js `tryShutdown`: GOAWAY, running calls finish, the port
 * refuses connections until the new process listens) behind `roundRobin`: the proxy replaces the
 * lost connection at once, so the stopped backend is out of rotation before calls go to it; calls
 * that raced the GOAWAY are refused unprocessed and retried on the other backend. No call fails.
 */
import { status } from '@grpc/grpc-js';
import {
  callEcho,
  createEchoClient,
  echoRequest,
  startEchoServer,
  type EchoServerHandle,
  type EchoServiceClient,
} from '@grpc-proxy/testing';
import { useRoutedProxy, type RoutedProxy } from './test-support/routed-proxy';

const CALLERS = 10;
/** Bounds each caller's loop; the restarts end it long before. */
const MAX_CALLS_PER_CALLER = 20_000;

describe('graceful restarts of backends', () => {
  const routed = useRoutedProxy();
  let servers: EchoServerHandle[] = [];
  let echo: EchoServiceClient | undefined;
  let run: RoutedProxy;

  afterEach(() => {
    echo?.close();
    for (const server of servers) server.forceClose();
    servers = [];
    echo = undefined;
  });

  async function echoServer(name: string, port = 0): Promise<EchoServerHandle> {
    const server = await startEchoServer({ name, port });
    servers.push(server);
    return server;
  }

  async function answers(count: number): Promise<string[]> {
    const names: string[] = [];
    for (let call = 0; call < count; call++) {
      const outcome = await callEcho(echo!, echoRequest());
      expect(outcome.status.code).toBe(status.OK);
      names.push(outcome.responses[0].serverName);
    }
    return names;
  }

  it('takes a backend that stopped gracefully out of rotation before a call goes there, and back once it listens again', async () => {
    const [a, b] = [await echoServer('a'), await echoServer('b')];
    run = await routed.start({ a: a.address, b: b.address });
    echo = createEchoClient(run.proxy.address);
    expect(await answers(2)).toEqual(['a', 'b']);
    await a.close();
    await run.until(() => run.health.length === 1, 'a reported down');
    expect(run.health).toEqual([
      { backend: 'a', available: false, error: `connect ECONNREFUSED ${a.address}` },
    ]);
    expect(await answers(3)).toEqual(['b', 'b', 'b']);
    await echoServer('a', a.port);
    await run.until(() => run.a.isAvailable(), 'a back in rotation');
    expect(await answers(2)).toEqual(['a', 'b']);
    expect(run.reports.map((report) => report.retries)).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });

  it('loses no call under load while each backend restarts twice; every retry is accounted for', async () => {
    const current = { a: await echoServer('a'), b: await echoServer('b') };
    run = await routed.start({ a: current.a.address, b: current.b.address });
    echo = createEchoClient(run.proxy.address);
    let stop = false;
    const codes: status[] = [];
    const caller = async (): Promise<void> => {
      for (let call = 0; call < MAX_CALLS_PER_CALLER && !stop; call++) {
        codes.push((await callEcho(echo!, echoRequest())).status.code);
      }
    };
    const callers = Array.from({ length: CALLERS }, caller);
    for (const round of [1, 2]) {
      for (const name of ['a', 'b'] as const) {
        const stopped = current[name];
        const seen = run.health.length;
        const changed = (available: boolean) => () =>
          run.health
            .slice(seen)
            .some((change) => change.backend === name && change.available === available);
        await stopped.close();
        await run.until(changed(false), `${name} down, round ${round}`);
        current[name] = await echoServer(name, stopped.port);
        await run.until(changed(true), `${name} back, round ${round}`);
      }
    }
    stop = true;
    await Promise.all(callers);
    expect(codes.filter((code) => code !== status.OK)).toEqual([]);
    // Each call ran on exactly one backend: a refused attempt never reached a handler.
    const handled = servers.reduce((sum, server) => sum + server.calls.length, 0);
    expect(handled).toBe(codes.length);
    const retries = run.reports.reduce((sum, report) => sum + report.retries, 0);
    const failedAttempts = run.releases.filter((release) => release.code !== status.OK);
    expect(failedAttempts).toHaveLength(retries);
    expect(run.asks.count).toBe(codes.length + retries);
    expect(run.releases).toHaveLength(run.asks.count);
  });
});
