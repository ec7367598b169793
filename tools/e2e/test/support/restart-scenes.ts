import { Metadata, status, type Client } from '@grpc/grpc-js';
import { callRawUnary } from '@grpc-proxy/testing';
import {
  RestartableBackend,
  probeService,
  waitUntil,
  type BackendProcess,
  type FloodRequest,
  type LoadCall,
} from '../../src';
import { PROBE_BACKOFF } from './passive-health';
import type { Harness } from './use-harness';

// The scenes of backend-restarts.spec.ts: backend pools behind the command, the calls they make
// and what the cases count.

/** `failed` summarised as `count x code details` lines, for failure messages and reports. */
export function summarise(failed: readonly LoadCall[]): string[] {
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
export function probeBounds(windowMs: number): { most: number; fewest: number } {
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
export function gaps(times: readonly number[]): number[] {
  return times.slice(1).map((at, index) => at - times[index]);
}

/** `backends` behind the command as one `pool` group (round_robin); a warmed-up client of it. */
export async function poolOf(h: Harness, backends: readonly { address: string }[]) {
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
export async function restartablePool(h: Harness) {
  const backends = await Promise.all([RestartableBackend.start(), RestartableBackend.start()]);
  for (const backend of backends) h.own(backend, (owned) => owned.close());
  return { backends, client: await poolOf(h, backends) };
}

/** Two probe backends in their own processes (to be killed), behind the command. */
export async function processPool(h: Harness) {
  const backends = await Promise.all([h.backend(), h.backend()]);
  return { backends, client: await poolOf(h, backends) };
}

/** How many times `backend` started a `method` call (its `call` events). */
export function handlerRuns(backend: BackendProcess, method: string): number {
  return backend.events().filter((event) => event.event === 'call' && event.method === method)
    .length;
}

/** A unary call through `client`, timed. */
export async function timedCall(client: Client) {
  const startedAt = performance.now();
  const outcome = await callRawUnary(client, probeService.Unary.path, Buffer.from('x'), {
    options: { deadline: Date.now() + 5000 },
  });
  return { status: outcome.status, ms: performance.now() - startedAt };
}

/** Waits until `backend` has served `more` Unary calls more than it had when called. */
export function servesAgain(backend: RestartableBackend, more: number) {
  const target = backend.unaryRuns + more;
  return waitUntil(() => backend.unaryRuns >= target, 5000, `${backend.address} serving again`);
}

/**
 * The `UNAVAILABLE` message a call gets once the group knows every target is down: each target
 * named with its connection error (refused, or reset: the processes are gone, and grpc-js keeps
 * the error of the lost connection).
 */
export function noneAvailable(backends: readonly BackendProcess[]): RegExp {
  const names = backends.map((backend) => `pool/${escape(backend.address)}`);
  const reasons = backends
    .map((backend, index) => `${names[index]}: [^,]*(?:ECONNREFUSED|ECONNRESET)[^,]*`)
    .join(', ');
  const path = escape(probeService.Unary.path);
  return new RegExp(
    `^grpc-proxy: no backend available for ${path} in roundRobin\\(${names.join(', ')}\\) \\(${reasons}\\)$`,
  );
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Opens a `Flood` call of 64 MiB (the backend streams it as fast as flow control lets it) or a
 * `Hang` call with one request message (the backend never answers), deadline 5 s.
 */
export function openCall(client: Client, method: 'Flood' | 'Hang') {
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
