import { connect, type Settings } from 'node:http2';
import type { LookupFunction } from 'node:net';
import {
  CLOSED_BEFORE_SETTINGS,
  PooledSession,
  keepAlive,
  widenConnectionWindow,
  type AttemptListener,
} from './pooled-session';
import { answerLookup, type AddressSlot, type TargetAddresses } from './target-addresses';

/** What a new session needs from its pool. */
export interface OpeningParameters {
  readonly settings: Settings;
  readonly idleTimeoutMs: number;
  readonly keepaliveMs: number;
  readonly keepaliveTimeoutMs: number;
  readonly connectionWindowSize: number;
  /** `0`: no limit. */
  readonly connectTimeoutMs: number;
  /** The target's last `SETTINGS_MAX_CONCURRENT_STREAMS`, until this session's arrive. */
  readonly limit: number;
  /** Resolves the target's name (the resolution under way, if one is). */
  resolve(): Promise<void>;
  /** How the connection attempt ended. */
  readonly settled: AttemptListener;
  /** The session was lost after it connected (GOAWAY, closed, failed). */
  lost(pooled: PooledSession): void;
  /** The backend announced its `SETTINGS_MAX_CONCURRENT_STREAMS` (`Infinity`: none). */
  announced(limit: number): void;
}

/**
 * Opens a session to `addresses`' target: to `slot`'s address, or, without one, to the address
 * its name gives once resolved (the session then joins that address). The `:authority` and the
 * TLS server name stay the target's host name. Leaves the pool's lists to the caller.
 */
export function openPooledSession(
  addresses: TargetAddresses,
  slot: AddressSlot | undefined,
  parameters: OpeningParameters,
): PooledSession {
  const { spec } = addresses;
  let lookup: LookupFunction | undefined;
  if (spec.hostname !== undefined) {
    // net calls it within connect(): `pooled` is there by the time the resolution ends.
    lookup =
      slot?.lookup ??
      ((_hostname, options, callback) => {
        parameters.resolve().then(
          () => {
            const joined = join(addresses, pooled);
            // No longer pending (failed, timed out, closed) or the pool closed: the attempt is over.
            if (joined === undefined) callback(new Error(CLOSED_BEFORE_SETTINGS), '');
            else answerLookup(callback, options.all === true, joined.address!, joined.family);
          },
          (error: Error) => callback(error, ''),
        );
      });
  }
  // Uncapped as on the listening side (see server.ts): the windows bound it.
  const session = connect(spec.url, {
    ...spec.options,
    ...(lookup === undefined ? {} : { lookup }),
    settings: parameters.settings,
    maxSessionMemory: Number.MAX_SAFE_INTEGER,
  });
  const pooled = new PooledSession(
    session,
    spec.authority,
    parameters.limit,
    addresses,
    parameters.settled,
  );
  pooled.slot = slot;
  watch(pooled, parameters);
  return pooled;
}

/**
 * A pending session takes the next address in turn once the name is resolved; `undefined` when
 * it no longer takes streams (failed, timed out, closed meanwhile) or no address is known.
 */
function join(addresses: TargetAddresses, pooled: PooledSession): AddressSlot | undefined {
  const index = addresses.pending.indexOf(pooled);
  if (index === -1) return undefined;
  const slot = addresses.connectable(Date.now());
  if (slot === undefined) return undefined;
  addresses.pending.splice(index, 1);
  pooled.slot = slot;
  slot.sessions.push(pooled);
  return slot;
}

/** The session's timers and events: idle close, keepalive, connect timeout, how it ends. */
function watch(pooled: PooledSession, parameters: OpeningParameters): void {
  const { session, target } = pooled;
  session.on('remoteSettings', (settings: Settings) => {
    pooled.limit = settings.maxConcurrentStreams ?? Infinity;
    parameters.announced(pooled.limit);
    pooled.connectedNow();
  });
  pooled.limitConnectTime(parameters.connectTimeoutMs);
  const forget = (): void => target.remove(pooled);
  if (parameters.idleTimeoutMs > 0) pooled.closeWhenIdle(parameters.idleTimeoutMs);
  if (parameters.keepaliveMs > 0) {
    keepAlive(pooled, parameters.keepaliveMs, parameters.keepaliveTimeoutMs);
  }
  widenConnectionWindow(session, parameters.connectionWindowSize);
  session.on('goaway', () => {
    forget();
    if (pooled.connected) parameters.lost(pooled);
  });
  // The calls on it hear of a failure through their streams; the pool lets it go, and a
  // session that never connected is a failed attempt (backoff, reports).
  session.on('close', () => {
    forget();
    if (pooled.connected) parameters.lost(pooled);
    else pooled.failedToConnect(new Error(CLOSED_BEFORE_SETTINGS));
  });
  session.on('error', (error: Error) => {
    forget();
    pooled.failedToConnect(error);
  });
}
