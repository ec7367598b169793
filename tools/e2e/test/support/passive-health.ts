/** The passive-health probe backoff of both engines: 100 ms doubling to 500 ms, ±20 % (issue 13). */
export const PROBE_BACKOFF = { initialMs: 100, maxMs: 500, jitter: 0.2 } as const;

/**
 * What a loaded 2-core CI machine may add to a timer or a call's latency: the slack on time
 * bounds (a timer fires late, never early).
 */
export const SCHEDULING_SLACK_MS = 400;

/**
 * The longest a target that came back can stay out of rotation: one probe interval at the cap
 * (500 ms + 20 %), plus {@link SCHEDULING_SLACK_MS}.
 */
export const PROBE_INTERVAL_MS =
  PROBE_BACKOFF.maxMs * (1 + PROBE_BACKOFF.jitter) + SCHEDULING_SLACK_MS;

/**
 * The `UNAVAILABLE` messages that name a `group` target `127.0.0.1:PORT` which cannot be reached:
 * the engine's, for an attempt on it, or the group's, once passive health took every target out
 * of rotation (named with its connection error) — which of the two depends on whether the proxy has seen the
 * connection fail before the call (issue 13). `method` is the call's path.
 */
export function targetUnavailable(group: string, method: string): RegExp {
  const target = `${group}/127\\.0\\.0\\.1:\\d+`;
  const path = method.replace(/\./g, '\\.');
  return new RegExp(
    `^grpc-proxy: (backend ${target} unavailable: |no backend available for ${path} in ` +
      `roundRobin\\(${target}\\) \\(${target}: .+\\)$)`,
  );
}

/**
 * Runs `call` until it succeeds or `limitMs` passes (bounded: each attempt is a call with its own
 * deadline); resolves with the last outcome, the failures before it and how long it took.
 */
export async function untilOk<T extends { status: { code: number } }>(
  call: () => Promise<T>,
  limitMs: number,
): Promise<{ outcome: T; failedBefore: number; ms: number }> {
  const startedAt = performance.now();
  let failedBefore = 0;
  for (;;) {
    const outcome = await call();
    const ms = performance.now() - startedAt;
    if (outcome.status.code === 0 || ms > limitMs) return { outcome, failedBefore, ms };
    failedBefore += 1;
  }
}
