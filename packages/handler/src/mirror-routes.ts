import type { MirrorRoute, Route } from './contracts';

/**
 * 1 MiB: bytes a mirrored copy may hold that its mirror has not taken yet (written to its
 * stream, not yet flushed by the transport); past it the copy is dropped, so a slow or stuck
 * mirror costs the proxy at most this much per call.
 */
export const MIRROR_BUFFER_BYTES = 1_048_576;

/** 10 000 ms: how long a mirrored copy may run on after its call ended, by default. */
export const DEFAULT_MIRROR_TIMEOUT_MS = 10_000;

/** `x-grpc-proxy-mirror`: the header (value `1`) that marks a mirrored copy, by default. */
export const DEFAULT_MIRROR_HEADER = 'x-grpc-proxy-mirror';

const NONE: readonly MirrorRoute[] = [];

/**
 * The mirrors of `route` this call is copied to: each kept with its `percent` chance (sampled
 * now). Free for a route without mirrors.
 *
 * @throws TypeError for a mirror without a backend or a percent outside 0 to 100 (a director bug:
 *   the engine fails the call as for any invalid route)
 */
export function sampleMirrors(route: Route): readonly MirrorRoute[] {
  const mirror = route.mirror;
  if (mirror === undefined) return NONE;
  const all: readonly MirrorRoute[] = Array.isArray(mirror) ? mirror : [mirror as MirrorRoute];
  const chosen: MirrorRoute[] = [];
  for (const candidate of all) {
    const percent = candidate?.percent ?? 100;
    if (candidate?.backend === undefined || candidate.backend === null) {
      throw new TypeError('route.mirror needs a backend');
    }
    if (typeof percent !== 'number' || !(percent >= 0 && percent <= 100)) {
      throw new TypeError(`route.mirror percent must be a number from 0 to 100, got ${percent}`);
    }
    if (percent === 100 || Math.random() * 100 < percent) chosen.push(candidate);
  }
  return chosen;
}
