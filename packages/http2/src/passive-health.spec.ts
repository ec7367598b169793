/**
 * Passive health through the session pool: each connection attempt's outcome goes to the
 * backends of its target (createBackend's), a lost connection is replaced at once so that a dead
 * target is known before calls go to it, a target that is down is probed with capped backoff
 * (100 ms doubling to 500 ms, ± 20 %) and used again once a probe connects; with every target
 * down, calls fail at once naming the backends.
 */
import { status } from '@grpc/grpc-js';
import { callRawUnary } from '@grpc-proxy/testing';
import { CLOSED_BEFORE_SETTINGS } from './pooled-session';
import { startConnectionSink, type ConnectionSink } from './test-support/connection-sink';
import { answerWith, startRawBackend, type RawBackend } from './test-support/raw-h2';
import { useRoutedProxy, type RoutedProxy } from './test-support/routed-proxy';

const METHOD = '/acme.v1.Svc/Do';

function portOf(target: string): number {
  return Number(target.slice(target.lastIndexOf(':') + 1));
}

describe('passive health of the http2 engine', () => {
  const routed = useRoutedProxy();
  let closers: Array<{ close(): Promise<void> }> = [];
  let run: RoutedProxy;

  afterEach(async () => {
    await Promise.all(closers.map((closer) => closer.close()));
    closers = [];
  });

  async function rawBackend(name: string, port = 0): Promise<RawBackend> {
    const backend = await startRawBackend(answerWith(name), {}, port);
    closers.push(backend);
    return backend;
  }

  async function sink(port = 0): Promise<ConnectionSink> {
    const started = await startConnectionSink(port);
    closers.push(started);
    return started;
  }

  /** The names of the backends that answered `count` calls in a row, each of which must succeed. */
  async function answers(count: number): Promise<string[]> {
    const names: string[] = [];
    for (let call = 0; call < count; call++) {
      const outcome = await callRawUnary(run.client, METHOD, Buffer.from('x'));
      expect(outcome.status.code).toBe(status.OK);
      names.push(outcome.responses[0].toString());
    }
    return names;
  }

  /** Backends `a` and `b` behind the proxy, each with a connection from a call. */
  async function startBoth() {
    const [a, b] = [await rawBackend('a'), await rawBackend('b')];
    const targets = { a: a.target, b: b.target };
    run = await routed.start(targets);
    expect(await answers(2)).toEqual(['a', 'b']);
    return { a, b, targets };
  }

  /** Kills `backend`: its port refuses HTTP/2 (a sink takes it), its connections are dropped. */
  async function kill(backend: RawBackend, target: string): Promise<ConnectionSink> {
    backend.unlisten();
    const dead = await sink(portOf(target));
    backend.dropConnections();
    return dead;
  }

  const down = (backend: string) => ({ backend, available: false, error: CLOSED_BEFORE_SETTINGS });

  it('retries a call whose connection failed on the other backend, and takes the target out', async () => {
    const dead = await sink();
    const b = await rawBackend('b');
    run = await routed.start({ a: dead.target, b: b.target });
    expect(await answers(4)).toEqual(['b', 'b', 'b', 'b']);
    expect(run.reports.map((report) => report.retries)).toEqual([1, 0, 0, 0]);
    expect(run.asks.count).toBe(5);
    expect(run.releases[0]).toEqual({
      backend: 'a',
      code: status.UNAVAILABLE,
      details: `grpc-proxy: backend a unavailable: ${CLOSED_BEFORE_SETTINGS}`,
    });
    expect(run.health).toEqual([down('a')]);
    expect(run.a.connectionError?.message).toBe(CLOSED_BEFORE_SETTINGS);
  });

  it('knows a killed target is down before a call goes there, probes it with backoff, and uses it again once it is back', async () => {
    const { a, targets } = await startBoth();
    const dead = await kill(a, targets.a);
    await run.until(() => run.health.length === 1, 'a reported down');
    expect(run.health).toEqual([down('a')]);
    const asked = run.asks.count;
    expect(await answers(6)).toEqual(['b', 'b', 'b', 'b', 'b', 'b']);
    expect([run.asks.count - asked, run.reports.every((r) => r.retries === 0)]).toEqual([6, true]);
    // The lost connection's replacement, then probes 100, 200, 400, 500 ms (± 20 %) apart.
    await dead.connections(5);
    const gaps = dead.times.slice(1).map((time, index) => time - dead.times[index]);
    [100, 200, 400, 500].forEach((base, index) => {
      expect(gaps[index]).toBeGreaterThanOrEqual(base * 0.8 - 2);
    });
    expect(run.releases.filter((release) => release.backend === 'a')).toHaveLength(1);
    await dead.close();
    await rawBackend('a', portOf(targets.a));
    await run.until(() => run.health.length === 2, 'a back in rotation');
    expect(run.health[1]).toEqual({ backend: 'a', available: true, error: undefined });
    expect((await answers(4)).sort()).toEqual(['a', 'a', 'b', 'b']);
  });

  it('fails calls at once naming the backends while every target is down, and recovers within a probe interval', async () => {
    const { a, b, targets } = await startBoth();
    const deadA = await kill(a, targets.a);
    const deadB = await kill(b, targets.b);
    await run.until(() => run.health.length === 2, 'both reported down');
    const attempts = deadA.times.length + deadB.times.length;
    const started = Date.now();
    for (let call = 0; call < 10; call++) {
      const outcome = await callRawUnary(run.client, METHOD, Buffer.from('x'));
      expect([outcome.status.code, outcome.status.details]).toEqual([
        status.UNAVAILABLE,
        `no backend available for ${METHOD} in roundRobin(a, b) (a: ${CLOSED_BEFORE_SETTINGS}, b: ${CLOSED_BEFORE_SETTINGS})`,
      ]);
    }
    // No call waited for a connection, nor made one (only probes reach the dead ports).
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(deadA.times.length + deadB.times.length).toBeLessThanOrEqual(attempts + 4);
    await deadB.close();
    const back = Date.now();
    await rawBackend('b', portOf(targets.b));
    await run.until(() => run.b.isAvailable(), 'b back in rotation');
    // The next probe comes within the longest backoff step (500 ms + 20 %), on a loaded machine
    // a little later.
    expect(Date.now() - back).toBeLessThan(2_000);
    expect(await answers(3)).toEqual(['b', 'b', 'b']);
  });
});
