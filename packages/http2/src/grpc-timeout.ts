/** Milliseconds per unit of the `grpc-timeout` header (PROTOCOL-HTTP2.md, "Timeout"). */
const UNIT_MS: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 0.001,
  n: 0.000_001,
};

const TIMEOUT = /^(\d{1,8})([HMSmun])$/;

/** Units from the finest the backend needs (whole ms) to the coarsest, with their size in ms. */
const FORMAT_UNITS: ReadonlyArray<readonly [string, number]> = [
  ['m', 1],
  ['S', 1000],
  ['M', 60_000],
  ['H', 3_600_000],
];

/**
 * The milliseconds a `grpc-timeout` value allows (`Infinity` when absent), or `NaN` when the value
 * is malformed (more than 8 digits, an unknown unit...).
 */
export function parseGrpcTimeout(value: string | string[] | undefined): number {
  if (value === undefined) return Infinity;
  const match = typeof value === 'string' ? TIMEOUT.exec(value) : null;
  if (match === null) return NaN;
  return Number(match[1]) * UNIT_MS[match[2]];
}

/**
 * `grpc-timeout` for `remainingMs` (rounded up, so the backend never gets less time than is left;
 * at least 1 ms), in the finest unit whose value fits the header's 8 digits.
 */
export function formatGrpcTimeout(remainingMs: number): string {
  const ms = Math.max(1, Math.ceil(remainingMs));
  for (const [unit, size] of FORMAT_UNITS) {
    const amount = Math.ceil(ms / size);
    if (amount < 100_000_000) return `${amount}${unit}`;
  }
  return '99999999H';
}

/** Longest delay `setTimeout` keeps (about 24.8 days); a later deadline needs no timer. */
const MAX_TIMER_MS = 2_147_483_647;

/** Hears that a call's deadline passed. */
export interface DeadlineListener {
  deadlineReached(): void;
}

function reach(listener: DeadlineListener): void {
  listener.deadlineReached();
}

/**
 * A timer telling `listener` that its deadline passed, in `remainingMs` (at once when past); none
 * beyond the longest delay. The listener goes as the timer's argument: no closure per call.
 */
export function deadlineTimer(
  listener: DeadlineListener,
  remainingMs: number,
): NodeJS.Timeout | undefined {
  return remainingMs > MAX_TIMER_MS
    ? undefined
    : setTimeout(reach, Math.max(0, remainingMs), listener);
}
