import { status, type StatusObject } from '@grpc/grpc-js';
import { DeadPort, failedCalls, okRate, startUnaryLoad, waitUntil, type LoadCall } from '../src';
import {
  PROBE_BACKOFF,
  PROBE_INTERVAL_MS,
  SCHEDULING_SLACK_MS,
  untilOk,
} from './support/passive-health';
import {
  gaps,
  handlerRuns,
  noneAvailable,
  openCall,
  probeBounds,
  processPool,
  restartablePool,
  servesAgain,
  summarise,
  timedCall,
} from './support/restart-scenes';
import { ENGINES, useHarness } from './support/use-harness';

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
    while (!message.test(known.details) && performance.now() < giveUpAt) {
      known = (await timedCall(client)).status;
    }
    expect(known.code).toBe(status.UNAVAILABLE);
    expect(known.details).toMatch(message);

    const whileDown = [];
    for (let i = 0; i < 20; i++) whileDown.push(await timedCall(client));
    expect(whileDown.map((call) => [call.status.code, call.status.details])).toEqual(
      whileDown.map(() => [status.UNAVAILABLE, expect.stringMatching(message)]),
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
