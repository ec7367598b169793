/** Default first retry delay of {@link BackoffOptions.initialMs}. */
export const DEFAULT_INITIAL_BACKOFF_MS = 1000;

/** Reconnect backoff of the health watch streams. */
export interface BackoffOptions {
  /** Delay before the first retry, in ms. Default: 1000. */
  initialMs?: number;
  /** Upper bound of the delay, in ms. Default: 30000. */
  maxMs?: number;
  /** Growth factor between attempts. Default: 1.6 (as gRPC's connection backoff). */
  multiplier?: number;
  /** Random spread, as a fraction of the delay (0.2 = ±20%). Default: 0.2. */
  jitter?: number;
}

/** Delay before retry number `attempt` (0-based), with jitter so that backends do not sync up. */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialMs ?? DEFAULT_INITIAL_BACKOFF_MS;
  const max = options.maxMs ?? 30000;
  const multiplier = options.multiplier ?? 1.6;
  const jitter = options.jitter ?? 0.2;
  const base = Math.min(max, initial * multiplier ** attempt);
  const spread = base * jitter * (Math.random() * 2 - 1);
  return Math.max(0, Math.round(base + spread));
}
