/**
 * The healthy side of the abuse suite: a client keeping 20 unary calls in flight on a connection
 * of its own the whole time, its latencies and failures kept per phase (baseline, each attack),
 * and what an attack cost: backend calls it caused, proxy RSS growth.
 */
import { credentials, type Client } from '@grpc/grpc-js';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BackendProcess,
  ProxyProcess,
  mib,
  probeClient,
  probeService,
  sampleRss,
  type ProxyEngine,
} from '../../src';
import { PEERS, installed, startPeer, type AttackedProxy, type Peer } from './abuse-peers';
import { ENGINES } from './use-harness';

/** Calls in flight at any time. */
const IN_FLIGHT = 20;
/** A healthy call's deadline: far above any bound, so a slow call is measured, not failed. */
const DEADLINE_MS = 10_000;

/** One phase of the healthy load. */
export interface PhaseStats {
  readonly calls: number;
  /** `code details` of every failed call. */
  readonly failures: string[];
  readonly p50Ms: number;
  readonly p99Ms: number;
}

function percentile(sorted: number[], share: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * share))];
}

/** 20 unary calls in flight, without pause, on a grpc-js client with its own connection. */
export class HealthyLoad {
  private readonly client: Client;
  private latencies: number[] = [];
  private failures: string[] = [];
  private running = true;
  private readonly workers: Promise<void>[];

  constructor(address: string) {
    this.client = probeClient(address, credentials.createInsecure(), {
      'grpc.use_local_subchannel_pool': 1,
    });
    this.workers = Array.from({ length: IN_FLIGHT }, (_, worker) => this.work(worker));
  }

  /** Ends the current phase: its figures, and a new phase begins. */
  phase(): PhaseStats {
    const sorted = this.latencies.sort((a, b) => a - b);
    const stats = {
      calls: sorted.length + this.failures.length,
      failures: this.failures,
      p50Ms: percentile(sorted, 0.5),
      p99Ms: percentile(sorted, 0.99),
    };
    this.latencies = [];
    this.failures = [];
    return stats;
  }

  /** Stops after the calls in flight. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
    this.client.close();
  }

  private async work(worker: number): Promise<void> {
    const payload = Buffer.from(`healthy ${worker}`);
    while (this.running) {
      const started = performance.now();
      const error = await new Promise<{ code: number; details: string } | null>((resolve) =>
        this.client.makeUnaryRequest(
          probeService.Unary.path,
          (value: Buffer) => value,
          (value: Buffer) => value,
          payload,
          { deadline: Date.now() + DEADLINE_MS },
          (failure) =>
            resolve(failure ? { code: failure.code ?? -1, details: failure.details ?? '' } : null),
        ),
      );
      if (error === null) this.latencies.push(performance.now() - started);
      else this.failures.push(`${error.code} ${error.details}`);
    }
  }
}

/** What one attack cost the proxy and the backend. */
export interface AttackCost {
  /** Calls the backend saw start during the attack (the healthy client's are not logged). */
  backendCalls: number;
  /** Largest RSS during the attack minus the largest before it (baseline included), bytes. */
  rssGrowth: number;
  /** The healthy client during the attack. */
  healthy: PhaseStats;
}

/**
 * Runs `attack` while the healthy load goes on, and measures over `windowMs` from its start (or
 * until it is over, if longer): the backend calls it caused (every `call` event of the probe
 * backend; the healthy client's Unary calls log none), the proxy's RSS peak (sampled every
 * 10 ms) and the healthy client's latencies, so that a short attack is weighed over as many
 * healthy calls as a long one.
 */
export async function measureAttack<T>(
  target: AbuseTarget,
  windowMs: number,
  attack: () => Promise<T>,
): Promise<{ outcome: T; cost: AttackCost }> {
  const { proxy, backend, healthy } = target;
  const callsBefore = backendCalls(backend);
  const rssBefore = Math.max(proxy.kernelMemory().rss, target.baselineRss);
  healthy.phase();
  const sampler = sampleRss(proxy.process.pid, 10);
  const startedAt = Date.now();
  const outcome = await attack();
  const left = startedAt + windowMs - Date.now();
  if (left > 0) await sleep(left);
  const peak = sampler.stop();
  return {
    outcome,
    cost: {
      backendCalls: backendCalls(backend) - callsBefore,
      rssGrowth: peak - rssBefore,
      healthy: healthy.phase(),
    },
  };
}

function backendCalls(backend: BackendProcess): number {
  return backend.events().filter((event) => event.event === 'call').length;
}

/** The proxy under attack, its backend, the healthy client and its figures before any attack. */
export interface AbuseTarget {
  /** The command's engine, or the peer proxy measured the same way. */
  readonly engine: ProxyEngine | Peer;
  readonly proxy: AttackedProxy;
  readonly backend: BackendProcess;
  readonly healthy: HealthyLoad;
  /** The healthy client over one quiet second. */
  readonly baseline: PhaseStats;
  /** The proxy's RSS peak over that second: the healthy load's own memory is not an attack's. */
  readonly baselineRss: number;
}

/**
 * The limits the suite runs the proxy with: the defaults, but idle connections closed after 1 s
 * and stalled readers reset after 1 s, so that those defences act within an attack's window.
 */
export const ABUSE_LIMITS = { idleTimeoutMs: 1000, stallTimeoutMs: 1000 };

/**
 * 96 MiB: the most an attack may grow the proxy's RSS (peak during the attack minus before).
 * The healthy load alone moves RSS by tens of MiB (its heap churn; Node 24 lets garbage grow
 * to ~60 MiB before collecting), so a tighter bound fails on noise; what the limits prevent is
 * far larger (before them: +201 MiB for the stream flood, ~98 MiB of replies held for the
 * zero-window reader, plus that noise).
 */
export const RSS_GROWTH_BOUND = 96 * 1024 * 1024;

/** The `grpc-proxy` command on `engine`, with {@link ABUSE_LIMITS}, in front of `backend`. */
function startCommand(engine: ProxyEngine, backend: BackendProcess): Promise<AttackedProxy> {
  return ProxyProcess.start({
    engine,
    config: { backends: [{ name: 'probe', targets: [backend.address] }], limits: ABUSE_LIMITS },
  });
}

/**
 * Declares a `beforeAll` starting a probe backend, the proxy (the command on `engine`, or the
 * peer), and the healthy load (warmed up 1 s, then a 1 s baseline), and an `afterAll`
 * stopping them. The returned object is filled in by the `beforeAll`.
 */
export function useAbuseTarget(engine: ProxyEngine | Peer): AbuseTarget {
  const target = { engine } as { -readonly [K in keyof AbuseTarget]: AbuseTarget[K] };
  beforeAll(async () => {
    target.backend = await BackendProcess.start();
    target.proxy =
      engine === 'nginx' || engine === 'haproxy'
        ? await startPeer(engine, target.backend.address)
        : await startCommand(engine, target.backend);
    target.healthy = new HealthyLoad(target.proxy.address);
    // A second to warm up (the proxy's heap grows under the load first), one to measure.
    await sleep(1000);
    target.healthy.phase();
    const sampler = sampleRss(target.proxy.process.pid, 10);
    await sleep(1000);
    target.baselineRss = sampler.stop();
    target.baseline = target.healthy.phase();
    report(engine, `baseline: ${describePhase(target.baseline)}`);
  });
  afterAll(async () => {
    await target.healthy?.stop();
    await target.proxy?.stop();
    await target.backend?.stop();
  });
  return target;
}

/** `p50 / p99` and the call count of a phase, for reports. */
export function describePhase(stats: PhaseStats): string {
  return (
    `healthy p50 ${stats.p50Ms.toFixed(1)} ms, p99 ${stats.p99Ms.toFixed(1)} ms ` +
    `over ${stats.calls} calls, ${stats.failures.length} failed`
  );
}

/** Prints one `[e2e] <engine> abuse: ...` line (the figures docs/RELIABILITY.md quotes). */
export function report(engine: ProxyEngine | Peer, line: string): void {
  process.stdout.write(`[e2e] ${engine} abuse: ${line}\n`);
}

/** An attack's figures, for reports. */
export function describeCost(cost: AttackCost): string {
  return `backend calls ${cost.backendCalls}, proxy RSS +${mib(cost.rssGrowth)}, ${describePhase(cost.healthy)}`;
}

/**
 * The healthy client's p99 during an attack may be twice its baseline plus 300 ms: a loaded
 * 2-core CI machine runs the proxy, the backend, the attacker and the healthy client at once.
 * Before the limits it reached 0.6-1.6 s under these attacks.
 */
export function healthyP99BoundMs(baseline: PhaseStats): number {
  return baseline.p99Ms * 2 + 300;
}

/** Proxy alive, no healthy call lost, healthy p99 within {@link healthyP99BoundMs}. */
export function expectHealthyUnharmed(target: AbuseTarget, cost: AttackCost): void {
  expect(target.proxy.process.running).toBe(true);
  expect(cost.healthy.failures).toEqual([]);
  expect(cost.healthy.calls).toBeGreaterThan(0);
  expect(cost.healthy.p99Ms).toBeLessThan(healthyP99BoundMs(target.baseline));
  expect(target.proxy.process.stderr).not.toMatch(/uncaught|unhandled/i);
}

/**
 * Declares one `describe` per engine of the suite (`E2E_ENGINES`), each with its
 * {@link useAbuseTarget}; `cases` declares the cases against it. With `E2E_ABUSE_PEERS=1`, also
 * one per installed peer (nginx, haproxy): the same attacks, measured the same way, for
 * docs/RELIABILITY.md; `cases` must then skip the bounds that are the command's own.
 */
export function describeAbuse(title: string, cases: (target: AbuseTarget) => void): void {
  const peers = process.env.E2E_ABUSE_PEERS === '1' ? PEERS.filter(installed) : [];
  describe.each([...ENGINES, ...peers])(`${title} (%s)`, (engine) => cases(useAbuseTarget(engine)));
}

/** Whether `target` is a peer proxy measured for comparison (nothing is asserted of it). */
export function isPeer(target: AbuseTarget): boolean {
  return (PEERS as readonly string[]).includes(target.engine);
}

/**
 * {@link measureAttack}, then prints `<what the attack saw>; <what it cost>` and checks
 * {@link expectHealthyUnharmed}.
 */
export async function runAttack<T>(
  target: AbuseTarget,
  windowMs: number,
  attack: () => Promise<T>,
  describeOutcome: (outcome: T) => string,
): Promise<{ outcome: T; cost: AttackCost }> {
  const measured = await measureAttack(target, windowMs, attack);
  report(target.engine, `${describeOutcome(measured.outcome)}; ${describeCost(measured.cost)}`);
  if (!isPeer(target)) expectHealthyUnharmed(target, measured.cost);
  return measured;
}

/** `closed after N ms`, or `not closed`, for reports. */
export function closedText(outcome: { closedAfterMs?: number }): string {
  return outcome.closedAfterMs === undefined
    ? 'not closed'
    : `closed after ${outcome.closedAfterMs} ms`;
}
