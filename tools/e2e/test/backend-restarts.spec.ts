import { Metadata, status, type Client, type StatusObject } from '@grpc/grpc-js';
import { callRawUnary } from '@grpc-proxy/testing';
import {
  DeadPort,
  RestartableBackend,
  type BackendProcess,
  type FloodRequest,
  failedCalls,
  okRate,
  probeService,
  startUnaryLoad,
  waitUntil,
  type LoadCall,
} from '../src';
import {
  PROBE_BACKOFF,
  PROBE_INTERVAL_MS,
  SCHEDULING_SLACK_MS,
  untilOk,
} from './support/passive-health';
import { ENGINES, useHarness, type Harness } from './support/use-harness';

// Issue 13, through the command on each engine: two backends in one round_robin group (no
// health checks), restarted, killed and brought back under load. For the graceful restarts the
// backends run in this process (RestartableBackend), so that a restart is what an operator's is
// (grpc-js tryShutdown, then a new server on the same port) and takes milliseconds, not a
// process start. A backend that dies is a probe backend in its own process, killed with SIGKILL:
// its connections vanish without a GOAWAY, as in a crash.

/** Graceful restart cycles in a row (each: both backends restarted twice under load). */
const RESTART_RUNS = 10;
/** Concurrent callers of every load. */
const CALLERS = 20;
/** Load before the two-backend throughput is measured. */
const WARM_UP_MS = 1000;
/** How long after a kill calls may still fail (issue 13: at most 1 s). */
const EJECTION_LIMIT_MS = 1000;
/** How long the load runs after a kill, and the probes are counted. */
const AFTER_KILL_MS = 3000;
/** A call that fails "fast" while every target is down: no connect wait, no backoff wait. */
const FAST_FAILURE_MS = 250;

function report(engine: string, line: string): void {
  process.stdout.write(`[e2e] ${engine}: ${line}\n`);
}

/** Resolves after `ms`: the length of a throughput measurement, never a synchronisation. */
function measureFor(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `failed` summarised as `count x code details` lines, for failure messages and reports. */
function summarise(failed: readonly LoadCall[]): string[] {
  const counts = new Map<string, number>();
  for (const call of failed) {
    const key = `${status[call.code] ?? call.code} ${call.details}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, count]) => `${count} x ${key}`);
}

/**
 * The most and the fewest connection attempts a prober with {@link PROBE_BACKOFF} can make in
 * `windowMs` after its first failure, the first attempt included: every wait at its shortest
 * (-20 %) for the most, at its longest (+20 %) for the fewest.
 */
function probeBounds(windowMs: number): { most: number; fewest: number } {
  const attempts = (factor: number) => {
    let count = 1;
    let at = 0;
    for (
      let wait: number = PROBE_BACKOFF.initialMs;
      ;
      wait = Math.min(wait * 2, PROBE_BACKOFF.maxMs)
    ) {
      at += wait * factor;
      if (at > windowMs) return count;
      count += 1;
    }
  };
  return {
    most: attempts(1 - PROBE_BACKOFF.jitter),
    fewest: attempts(1 + PROBE_BACKOFF.jitter),
  };
}

/** Gaps between consecutive times. */
function gaps(times: readonly number[]): number[] {
  return times.slice(1).map((at, index) => at - times[index]);
}

/** `backends` behind the command as one `pool` group (round_robin); a warmed-up client of it. */
async function poolOf(h: Harness, backends: readonly { address: string }[]) {
  const proxy = await h.proxy({
    config: { backends: [{ name: 'pool', targets: backends.map((b) => b.address) }] },
  });
  const client = h.probeClient(proxy.address);
  for (const text of ['warm a', 'warm b']) {
    const warm = await callRawUnary(client, probeService.Unary.path, Buffer.from(text));
    expect(warm.status.code).toBe(status.OK);
  }
  return client;
}

/** Two in-process backends that restart gracefully, behind the command. */
async function restartablePool(h: Harness) {
  const backends = await Promise.all([RestartableBackend.start(), RestartableBackend.start()]);
  for (const backend of backends) h.own(backend, (owned) => owned.close());
  return { backends, client: await poolOf(h, backends) };
}

/** Two probe backends in their own processes (to be killed), behind the command. */
async function processPool(h: Harness) {
  const backends = await Promise.all([h.backend(), h.backend()]);
  return { backends, client: await poolOf(h, backends) };
}

/** How many times `backend` started a `method` call (its `call` events). */
function handlerRuns(backend: BackendProcess, method: string): number {
  return backend.events().filter((event) => event.event === 'call' && event.method === method)
    .length;
}

/** A unary call through `client`, timed. */
async function timedCall(client: Client) {
  const startedAt = performance.now();
  const outcome = await callRawUnary(client, probeService.Unary.path, Buffer.from('x'), {
    options: { deadline: Date.now() + 5000 },
  });
  return { status: outcome.status, ms: performance.now() - startedAt };
}

/** Waits until `backend` has served `more` Unary calls more than it had when called. */
function servesAgain(backend: RestartableBackend, more: number) {
  const target = backend.unaryRuns + more;
  return waitUntil(() => backend.unaryRuns >= target, 5000, `${backend.address} serving again`);
}

/** The `UNAVAILABLE` message a call gets once the group knows every target is down. */
function noneAvailable(backends: readonly BackendProcess[]): string {
  const names = backends.map((backend) => `pool/${backend.address}`);
  const reasons = names.map((name) => `${name}: connection failed`).join(', ');
  return `grpc-proxy: no backend available for ${probeService.Unary.path} in roundRobin(${names.join(', ')}) (${reasons})`;
}

/**
 * Opens a `Flood` call of 64 MiB (the backend streams it as fast as flow control lets it) or a
 * `Hang` call with one request message (the backend never answers), deadline 5 s.
 */
function openCall(client: Client, method: 'Flood' | 'Hang') {
  const identity = (value: Buffer) => value;
  const options = { deadline: Date.now() + 5000 };
  if (method === 'Flood') {
    const flood: FloodRequest = { totalBytes: 64 * 1024 * 1024, chunkBytes: 16 * 1024 };
    const request = Buffer.from(JSON.stringify(flood));
    const path = probeService.Flood.path;
    return client.makeServerStreamRequest(
      path,
      identity,
      identity,
      request,
      new Metadata(),
      options,
    );
  }
  const call = client.makeBidiStreamRequest(
    probeService.Hang.path,
    identity,
    identity,
    new Metadata(),
    options,
  );
  call.write(Buffer.from('x'));
  return call;
}

describe.each(ENGINES)('backend restarts and deaths, through the command (%s engine)', (engine) => {
  const h = useHarness({ engine });

  it(`graceful restarts, each backend twice under ${CALLERS} callers: no failed call, ${RESTART_RUNS} runs in a row`, async () => {
    const { backends, client } = await restartablePool(h);
    const failedPerRun: number[] = [];
    const failures: LoadCall[] = [];
    let total = 0;
    const startedAt = performance.now();
    for (let run = 0; run < RESTART_RUNS; run++) {
      const load = startUnaryLoad(client, { callers: CALLERS });
      for (const backend of backends) await servesAgain(backend, 20);
      for (let round = 0; round < 2; round++) {
        for (const backend of backends) {
          await backend.restart();
          // An operator restarts the next one once this one takes calls again.
          await servesAgain(backend, 20);
        }
      }
      const calls = await load.stop();
      const failed = failedCalls(calls);
      failedPerRun.push(failed.length);
      failures.push(...failed);
      total += calls.length;
    }
    const elapsed = performance.now() - startedAt;
    report(
      engine,
      `${RESTART_RUNS} runs of 4 graceful restarts under ${CALLERS} callers in ${elapsed.toFixed(0)} ms: ` +
        `${total} calls, failed per run ${JSON.stringify(failedPerRun)}` +
        (failures.length > 0 ? `: ${summarise(failures).join('; ')}` : ''),
    );
    expect({ failedPerRun, failures: summarise(failures) }).toEqual({
      failedPerRun: Array.from({ length: RESTART_RUNS }, () => 0),
      failures: [],
    });
  });

  it('one backend killed for good: no failure after 1 s, half the throughput kept, the dead target probed with backoff', async () => {
    const { backends, client } = await processPool(h);
    const [, dead] = backends;
    const load = startUnaryLoad(client, { callers: CALLERS });
    // Connections, JIT and caches warm first: the two-backend rate is a steady one.
    await measureFor(WARM_UP_MS);
    const measuredFrom = performance.now();
    await measureFor(1000);
    const killedAt = performance.now();
    const twoBackendRate = okRate(load.calls, measuredFrom, killedAt);
    await dead.kill();
    const deadPort = h.own(await DeadPort.listen(dead.port), (port) => port.close());
    await measureFor(AFTER_KILL_MS);
    const calls = await load.stop();
    const probedUntil = killedAt + AFTER_KILL_MS;

    const failed = failedCalls(calls);
    const lastFailure = Math.max(killedAt, ...failed.map((call) => call.endedAt)) - killedAt;
    const afterEjection = calls.filter((call) => call.endedAt > killedAt + EJECTION_LIMIT_MS);
    const oneBackendRate = okRate(calls, killedAt + EJECTION_LIMIT_MS, probedUntil);
    const probes = deadPort.connections.filter((at) => at < probedUntil);
    const { most, fewest } = probeBounds(AFTER_KILL_MS);
    report(
      engine,
      `backend killed: ${failed.length} failed calls, the last ${lastFailure.toFixed(0)} ms after the kill` +
        (failed.length > 0 ? ` (${summarise(failed).join('; ')})` : '') +
        `; ${twoBackendRate.toFixed(0)} calls/s on two backends, ${oneBackendRate.toFixed(0)}/s on one; ` +
        `${probes.length} probes of the dead port in ${AFTER_KILL_MS} ms (backoff allows ${fewest}-${most}), ` +
        `gaps ${JSON.stringify(gaps(probes).map(Math.round))} ms`,
    );
    expect(summarise(failedCalls(afterEjection))).toEqual([]);
    expect(lastFailure).toBeLessThanOrEqual(EJECTION_LIMIT_MS);
    expect(oneBackendRate).toBeGreaterThanOrEqual(twoBackendRate / 2);
    // Probing never outpaces the backoff (the first attempt may come at once, on the lost
    // connection), and it keeps going: never a gap much longer than the cap.
    expect(probes.length).toBeLessThanOrEqual(most + 1);
    expect(probes.length).toBeGreaterThanOrEqual(Math.min(3, fewest));
    expect(Math.min(...gaps(probes).slice(1))).toBeGreaterThanOrEqual(
      PROBE_BACKOFF.initialMs * (1 - PROBE_BACKOFF.jitter) - 5,
    );
    const cap = PROBE_BACKOFF.maxMs * (1 + PROBE_BACKOFF.jitter) + SCHEDULING_SLACK_MS;
    expect(Math.max(...gaps([...probes, probedUntil]))).toBeLessThanOrEqual(cap);
  });

  it('every target down, then one back: fast UNAVAILABLE naming the targets meanwhile, success within a probe interval after', async () => {
    const { backends, client } = await processPool(h);
    await Promise.all(backends.map((backend) => backend.kill()));
    const message = noneAvailable(backends);
    // The group learns that both are down from their lost connections, at once: the first
    // calls may still name one target's connection error (bounded wait for the steady answer).
    let known = (await timedCall(client)).status;
    const giveUpAt = performance.now() + 2000;
    while (known.details !== message && performance.now() < giveUpAt) {
      known = (await timedCall(client)).status;
    }
    expect([known.code, known.details]).toEqual([status.UNAVAILABLE, message]);

    const whileDown = [];
    for (let i = 0; i < 20; i++) whileDown.push(await timedCall(client));
    expect(whileDown.map((call) => [call.status.code, call.status.details])).toEqual(
      whileDown.map(() => [status.UNAVAILABLE, message]),
    );
    const slowest = Math.max(...whileDown.map((call) => call.ms));
    expect(slowest).toBeLessThan(FAST_FAILURE_MS);

    await h.backend({ port: backends[0].port });
    const back = await untilOk(() => timedCall(client), PROBE_INTERVAL_MS);
    report(
      engine,
      `all targets down: ${whileDown.length} calls failed in at most ${slowest.toFixed(1)} ms ("${message}"); ` +
        `one back: first success ${back.ms.toFixed(0)} ms after it listened (${back.failedBefore} fast failures before)`,
    );
    expect(back.outcome.status.code).toBe(status.OK);
    expect(back.ms).toBeLessThanOrEqual(PROBE_INTERVAL_MS);
  });

  it.each([
    ['after its response headers and a message', 'Flood'],
    ['before any response byte', 'Hang'],
  ] as const)(
    'a backend that accepted a call and died %s: not retried, the client gets the proxy UNAVAILABLE',
    async (_when, method) => {
      const { backends, client } = await processPool(h);
      let messages = 0;
      const call = openCall(client, method);
      const outcome = new Promise<StatusObject>((resolve) => call.on('status', resolve));
      call.on('error', () => undefined);
      // Until the kill the client reads nothing after its first message, so the response stays
      // under way (the backend blocks on flow control); then it reads everything, so that what
      // the proxy had forwarded before the failure does not hold the status back.
      let holding = true;
      call.on('data', () => {
        messages += 1;
        if (holding) call.pause();
      });
      const runs = () => backends.map((backend) => handlerRuns(backend, method));
      await waitUntil(() => runs().some((count) => count > 0), 5000, `a ${method} handler ran`);
      const victim = backends[runs().indexOf(1)];
      if (method === 'Flood') {
        await waitUntil(() => messages > 0, 5000, 'the first Flood message at the client');
      }
      await victim.kill();
      holding = false;
      call.resume();
      const result = await outcome;
      report(
        engine,
        `${method} backend died mid-call: ${status[result.code]} "${result.details}" ` +
          `after ${messages} message(s); handler runs ${JSON.stringify(runs())}`,
      );
      expect(result.code).toBe(status.UNAVAILABLE);
      expect(result.details).toMatch(
        new RegExp(
          `^grpc-proxy: backend pool/${victim.address.replace(/\./g, '\\.')} unavailable: `,
        ),
      );
      expect(runs().reduce((sum, count) => sum + count, 0)).toBe(1);
      if (method === 'Flood') expect(messages).toBeGreaterThan(0);
    },
  );
});
