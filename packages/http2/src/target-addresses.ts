import { promises as dns, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import type { BackendTls } from '@grpc-proxy/handler';
import type { ConnectSpec } from './backend-target';
import type { PooledSession } from './pooled-session';
import { backingOff, type Failures } from './reconnect-backoff';

/**
 * Resolves a backend's host name to all its addresses. Default: {@link lookupAllAddresses}, the
 * OS resolver.
 */
export type Http2BackendLookup = (hostname: string) => Promise<readonly LookupAddress[]>;

/**
 * The default {@link Http2BackendLookup}: `dns.promises.lookup(hostname, { all: true })`, the
 * OS resolver (so `/etc/hosts` applies), every address it gives, in its order.
 */
export const lookupAllAddresses: Http2BackendLookup = (hostname) =>
  dns.lookup(hostname, { all: true });

/** One address of a target: its sessions and its consecutive failed connection attempts. */
export class AddressSlot {
  /** Its sessions that may still take streams (a session leaves on GOAWAY, failure, close). */
  readonly sessions: PooledSession[] = [];
  /** Failed attempts since the last one that connected. */
  failures: Failures | undefined = undefined;
  /** Gone from the name's last resolution: no new stream, its attempts count for nothing. */
  removed = false;

  constructor(
    /** The IP address; `undefined` to connect as the target says (IP literal, `unix:`). */
    readonly address: string | undefined,
    readonly family: number,
  ) {}

  /** Its last attempt failed and none of its sessions is connected. */
  get down(): boolean {
    return this.failures !== undefined && !this.sessions.some((pooled) => pooled.connected);
  }

  /**
   * What `net.connect` asks for `lookup`: this address, whatever the name (so the session's
   * `:authority` and TLS server name stay the target's host name).
   */
  readonly lookup: LookupFunction = (_hostname, options, callback) => {
    const { address, family } = this;
    process.nextTick(() => answerLookup(callback, options.all === true, address!, family));
  };
}

/** Answers a `net` lookup, in the shape it asked for (`all`: a list, as `autoSelectFamily` asks). */
export function answerLookup(
  callback: Parameters<LookupFunction>[2],
  all: boolean,
  address: string,
  family: number,
): void {
  if (all) callback(null, [{ address, family }]);
  else callback(null, address, family);
}

/**
 * A target of the pool (target string and TLS options): its addresses, each with its sessions,
 * the turn of the round-robin over them, and the state of its name's resolution.
 */
export class TargetAddresses {
  /** Its addresses; `undefined` until its name is first resolved. */
  slots: AddressSlot[] | undefined;
  /** Sessions opened before the name was first resolved: each takes an address once it is. */
  readonly pending: PooledSession[] = [];
  /** Failed attempts while no address was known (resolution failures). */
  failures: Failures | undefined = undefined;
  /** The index of the next address in turn. */
  next = 0;
  /** When the last resolution ended (epoch ms). */
  resolvedAt = 0;
  /** The resolution under way. */
  resolving: Promise<void> | undefined = undefined;

  constructor(
    /** The pool's key of the target (and TLS options). */
    readonly key: string,
    readonly target: string,
    readonly tls: BackendTls | undefined,
    readonly spec: ConnectSpec,
  ) {
    this.slots = spec.hostname === undefined ? [new AddressSlot(undefined, 0)] : undefined;
  }

  /** Every session that may still take streams. */
  *sessions(): Iterable<PooledSession> {
    yield* this.pending;
    for (const slot of this.slots ?? []) yield* slot.sessions;
  }

  /** Whether a session may take a stream now. */
  anyUsable(): boolean {
    for (const pooled of this.sessions()) if (pooled.usable) return true;
    return false;
  }

  /** Whether a connection attempt (or the resolution it needs) is under way. */
  connecting(): boolean {
    if (this.resolving !== undefined && this.slots === undefined) return true;
    for (const pooled of this.sessions()) if (pooled.connecting) return true;
    return false;
  }

  /**
   * Down (for passive health) when its name could not be resolved, or when every address's last
   * attempt failed and none has a connected session: up while any address connects.
   */
  down(): boolean {
    if (this.slots === undefined) return this.failures !== undefined;
    return this.slots.every((slot) => slot.down);
  }

  /** The earliest failures of all addresses: when the first may be tried again, and why it failed. */
  earliestRetry(): Failures | undefined {
    if (this.slots === undefined) return this.failures;
    let earliest: Failures | undefined;
    for (const { failures } of this.slots) {
      if (
        failures !== undefined &&
        (earliest === undefined || failures.retryAt < earliest.retryAt)
      ) {
        earliest = failures;
      }
    }
    return earliest;
  }

  /** When a connection attempt may start next (epoch ms): `now` if an address may be tried. */
  nextAttemptAt(now: number): number {
    if (this.slots === undefined) return this.failures?.retryAt ?? now;
    let at = Infinity;
    for (const { failures } of this.slots) {
      at = Math.min(at, backingOff(failures, now) ? failures.retryAt : now);
    }
    return at === Infinity ? now : at;
  }

  /**
   * The next address in turn that `accept`s it, the turn moved past it; `undefined` when none
   * does (the turn unchanged).
   */
  take(accept: (slot: AddressSlot) => boolean): AddressSlot | undefined {
    const slots = this.slots ?? [];
    for (let offset = 0; offset < slots.length; offset++) {
      const index = (this.next + offset) % slots.length;
      if (accept(slots[index])) {
        this.next = index + 1;
        return slots[index];
      }
    }
    return undefined;
  }

  /** The next address in turn that may be connected now, else the one that may be soonest. */
  connectable(now: number): AddressSlot | undefined {
    const ready = this.take((slot) => !backingOff(slot.failures, now));
    if (ready !== undefined) return ready;
    const soonest = this.earliestRetry();
    return this.take((slot) => slot.failures === soonest);
  }

  /** `pooled` takes no new stream: it leaves its address (or the pending ones). */
  remove(pooled: PooledSession): void {
    const members = pooled.slot?.sessions ?? this.pending;
    const index = members.indexOf(pooled);
    if (index !== -1) members.splice(index, 1);
  }

  /**
   * The name resolved to `addresses`: known ones keep their sessions and failures, new ones join,
   * and the slots of those that are gone are returned (marked removed).
   */
  update(addresses: readonly LookupAddress[]): AddressSlot[] {
    const known = new Map((this.slots ?? []).map((slot) => [slot.address, slot]));
    const slots: AddressSlot[] = [];
    for (const { address, family } of addresses) {
      if (slots.some((slot) => slot.address === address)) continue;
      slots.push(known.get(address) ?? new AddressSlot(address, family));
      known.delete(address);
    }
    this.slots = slots;
    this.next %= slots.length;
    this.failures = undefined;
    const removed = [...known.values()];
    for (const slot of removed) slot.removed = true;
    return removed;
  }
  /**
   * Resolves the target's name to all its addresses with `lookup` (the resolution under way, if
   * one is); rejects with an `Error` naming the host. Unless the pool closed meanwhile
   * (`stillOpen`), the addresses are updated and the sessions of the gone ones closed once their
   * streams end.
   */
  resolve(lookup: Http2BackendLookup, stillOpen: () => boolean): Promise<void> {
    if (this.resolving !== undefined) return this.resolving;
    const hostname = this.spec.hostname!;
    const settle = (): void => {
      this.resolving = undefined;
      this.resolvedAt = Date.now();
    };
    const resolving = Promise.resolve()
      .then(() => lookup(hostname))
      .then(
        (found) => {
          settle();
          if (found.length === 0) throw new Error('no address');
          if (stillOpen()) for (const gone of this.update(found)) retire(gone);
        },
        (error: unknown) => {
          settle();
          throw error;
        },
      )
      .catch((error: unknown) => {
        throw new Error(`resolving ${hostname} failed: ${messageOf(error)}`, { cause: error });
      });
    this.resolving = resolving;
    return resolving;
  }
}

/** Closes the sessions of an address that is gone, once their streams end. */
function retire(slot: AddressSlot): void {
  for (const pooled of [...slot.sessions]) pooled.retire();
}

/** The message of an error (an `Error` of another realm under test runners included). */
function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}
