/**
 * The director the mirror cases run, and the log of the mirror reports the proxy gives. Typed
 * structurally, so the kit depends on no engine (`@grpc-proxy/handler` depends on the kit's
 * tests; the other way round would be a cycle).
 */
import type { Metadata } from '@grpc/grpc-js';
import { within } from './check';

/** Request metadata key naming the mirror a call is copied to (see {@link MirrorTarget}). */
export const MIRROR_TARGET_KEY = 'x-conformance-mirror';

/**
 * Where the mirror director copies a call: `echo`, an echo server; `strict`, an echo server with
 * a 16-byte receive limit (it answers `RESOURCE_EXHAUSTED`); `refused`, an address that refuses
 * connections; `silent`, an HTTP/2 server that never reads nor answers; `none`, the echo mirror at
 * `percent: 0`.
 */
export type MirrorTarget = 'echo' | 'strict' | 'refused' | 'silent' | 'none';

/** What the mirror director reads of a call: the part of `ProxyCall` it needs. */
export interface MirrorCall {
  /** The request metadata ({@link MIRROR_TARGET_KEY} names the mirror). */
  readonly metadata: Metadata;
}

/** A mirror of the route: the shape of `MirrorRoute` (`@grpc-proxy/handler`). */
export interface MirrorRouteShape<Backend> {
  readonly backend: Backend;
  readonly percent?: number;
}

/** The route the mirror director returns: the primary, and one mirror. */
export interface MirroredRoute<Backend> {
  readonly backend: Backend;
  readonly mirror: readonly MirrorRouteShape<Backend>[];
}

/** A director returning {@link MirroredRoute}s; assignable to `StreamDirector`. */
export type MirroringDirector<Backend> = (call: MirrorCall) => MirroredRoute<Backend>;

/** How one mirrored copy ended: the shape of `MirrorReport` (`@grpc-proxy/handler`). */
export interface MirrorReportShape {
  readonly method: string;
  readonly backend: string;
  readonly outcome: 'completed' | 'dropped' | 'failed';
  readonly code: number;
  readonly details: string;
}

/** A report as the log keeps it: with when it came (`performance.now()`). */
export interface LoggedMirrorReport extends MirrorReportShape {
  readonly at: number;
}

/** Every mirror report the proxy gave, and waits on them. */
export class MirrorLog {
  readonly reports: LoggedMirrorReport[] = [];
  private readonly waiters = new Set<() => void>();

  /** The `onMirrorEnd` hook to give the proxy (bound; pass it as it is). */
  readonly onMirrorEnd = (report: MirrorReportShape): void => {
    this.reports.push({ ...report, at: performance.now() });
    for (const waiter of this.waiters) waiter();
  };

  /**
   * Resolves with the reports from index `from` on once there are `count` of them; fails after
   * `timeoutMs` saying `description` did not happen.
   */
  async waitFor(
    from: number,
    count: number,
    description: string,
    timeoutMs: number,
  ): Promise<LoggedMirrorReport[]> {
    let waiter: (() => void) | undefined;
    const found = new Promise<LoggedMirrorReport[]>((resolve) => {
      waiter = () => {
        if (this.reports.length - from >= count) resolve(this.reports.slice(from));
      };
      this.waiters.add(waiter);
      waiter();
    });
    try {
      return await within(description, timeoutMs, found);
    } finally {
      if (waiter !== undefined) this.waiters.delete(waiter);
    }
  }
}

/**
 * The mirror cases' director: every call goes to `primary`, copied to the mirror its
 * {@link MIRROR_TARGET_KEY} names (`echo` when it names none), at `percent: 0` for `none`.
 */
export function mirrorDirector<Backend>(
  primary: Backend,
  mirrors: Readonly<Record<Exclude<MirrorTarget, 'none'>, Backend>>,
): MirroringDirector<Backend> {
  return (call) => {
    const named = call.metadata.get(MIRROR_TARGET_KEY)[0];
    const target = typeof named === 'string' && named in mirrors ? named : 'echo';
    if (named === 'none')
      return { backend: primary, mirror: [{ backend: mirrors.echo, percent: 0 }] };
    return { backend: primary, mirror: [{ backend: mirrors[target as keyof typeof mirrors] }] };
  };
}
