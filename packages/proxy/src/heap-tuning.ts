import { setFlagsFromString } from 'node:v8';

/**
 * 300: V8's `--heap-growing-percent` that {@link tuneHeapForProxying} sets, i.e. an old
 * generation allowed to grow to 4× its live size before a full collection starts — the largest
 * factor V8 picks on its own (for programs that allocate fast).
 */
export const PROXY_HEAP_GROWING_PERCENT = 300;

/** Where {@link tuneHeapForProxying} looks for the user's own setting, and how it sets the flag. */
export interface HeapTuningEnvironment {
  /** Node's own command-line flags. Default: `process.execArgv`. */
  execArgv?: readonly string[];
  /** The `NODE_OPTIONS` environment variable. Default: `process.env.NODE_OPTIONS` (or empty). */
  nodeOptions?: string;
  /** Sets a V8 flag. Default: `v8.setFlagsFromString`. */
  setFlags?: (flags: string) => void;
}

/**
 * Sets V8's `--heap-growing-percent` to {@link PROXY_HEAP_GROWING_PERCENT} for the `grpc-proxy`
 * process, unless Node was started with a `--heap-growing-percent` of its own.
 *
 * Why: V8 counts the backing stores of Buffers — every proxied message allocates a few, and they
 * die young — against the old generation's allocation limit. A proxy's live heap is small
 * (~12 MB), and V8 sets that limit to live size × a growing factor it derives from measured GC
 * speed (and the memory reducer of an idle process picks the smallest). With a small factor the
 * slack is a few MB, less than the young Buffers of a stream of 64 KiB messages hold between two
 * scavenges, so the process falls into back-to-back incremental mark-compacts (every ~40 ms) for
 * good: measured at about half the messages per second and twice the CPU per message, at random
 * from one process start to the next. With a factor of 4, scavenges free those Buffers first.
 * V8 reads this flag each time it recomputes the limit, so setting it at run time takes effect.
 *
 * @returns `true` when the flag was set, `false` when the user's own setting was kept.
 */
export function tuneHeapForProxying(environment: HeapTuningEnvironment = {}): boolean {
  const execArgv = environment.execArgv ?? process.execArgv;
  const nodeOptions = environment.nodeOptions ?? process.env.NODE_OPTIONS ?? '';
  const userSetting = /(^|\s)--heap[-_]growing[-_]percent\b/;
  if (execArgv.some((arg) => userSetting.test(arg)) || userSetting.test(nodeOptions)) return false;
  (environment.setFlags ?? setFlagsFromString)(
    `--heap-growing-percent=${PROXY_HEAP_GROWING_PERCENT}`,
  );
  return true;
}
