import type { PooledSession } from './pooled-session';
import { ReconnectBackoff, backingOff } from './reconnect-backoff';
import type { AddressSlot, TargetAddresses } from './target-addresses';

/**
 * Opens a session to `slot`'s address, or, without one, to the address the target's name
 * resolves to first; the session joins the target's lists.
 */
export type OpenSession = (
  addresses: TargetAddresses,
  slot: AddressSlot | undefined,
) => PooledSession;

/**
 * The session a new call to `addresses`' target goes on. Its addresses are taken in turn: first
 * those with a connected session with room, while the others are connected in the background
 * (no call waits on an address still connecting, or blackholed, while another one is ready);
 * with none ready, the next address with a session with room or that may connect now. Before
 * its name is resolved: the session that is resolving it. Throws a {@link ReconnectBackoff}
 * while every address (or the name) failed less than the backoff ago, an `Error` once `closed`.
 */
export function pickSession(
  addresses: TargetAddresses,
  open: OpenSession,
  closed: boolean,
): PooledSession {
  const slots = addresses.slots;
  if (slots === undefined) {
    const pending = firstUsable(addresses.pending, false);
    if (pending !== undefined) return pending;
    refuseWhen(closed);
    if (backingOff(addresses.failures, Date.now())) {
      throw new ReconnectBackoff(addresses.failures.retryAt, addresses.failures.lastError);
    }
    return open(addresses, undefined);
  }
  const count = slots.length;
  for (let offset = 0; offset < count; offset++) {
    const index = (addresses.next + offset) % count;
    const pooled = firstUsable(slots[index].sessions, true);
    if (pooled !== undefined) {
      addresses.next = index + 1 === count ? 0 : index + 1;
      if (count > 1) warm(addresses, open);
      return pooled;
    }
  }
  refuseWhen(closed);
  if (count > 1) warm(addresses, open);
  let now = 0;
  for (let offset = 0; offset < count; offset++) {
    const index = (addresses.next + offset) % count;
    const slot = slots[index];
    const pooled = firstUsable(slot.sessions, false);
    if (pooled === undefined && backingOff(slot.failures, (now ||= Date.now()))) continue;
    addresses.next = index + 1 === count ? 0 : index + 1;
    return pooled ?? open(addresses, slot);
  }
  const { retryAt, lastError } = addresses.earliestRetry()!;
  throw new ReconnectBackoff(retryAt, lastError);
}

function refuseWhen(closed: boolean): void {
  if (closed) throw new Error('the proxy is shut down');
}

/** Connects every address without a session that may be tried now: it takes calls once connected. */
function warm(addresses: TargetAddresses, open: OpenSession): void {
  let now = 0;
  for (const slot of addresses.slots!) {
    if (slot.sessions.length > 0 || backingOff(slot.failures, (now ||= Date.now()))) continue;
    open(addresses, slot);
  }
}

/**
 * The first of `sessions` with room for a stream (and connected, with `connected`); no closure:
 * this runs for every call.
 */
function firstUsable(
  sessions: readonly PooledSession[],
  connected: boolean,
): PooledSession | undefined {
  for (const pooled of sessions) {
    if (pooled.usable && (pooled.connected || !connected)) return pooled;
  }
  return undefined;
}
