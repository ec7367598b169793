/**
 * The director the peek cases run: it awaits the first request message, records how that settled
 * and routes on it. Typed structurally, so the kit depends on no engine (`@grpc-proxy/handler`
 * depends on the kit's tests; the other way round would be a cycle).
 */
import { status as Status } from '@grpc/grpc-js';
import type { Metadata } from '@grpc/grpc-js';
import { EchoRequest } from '../gen/grpc_proxy/testing/v1/echo';
import { within } from './check';
import { CALL_ID_KEY } from './types';

/**
 * What the peek director reads of a call: the part of `ProxyCall` (`@grpc-proxy/handler`) it
 * needs, so any engine's `ProxyCall` fits.
 */
export interface PeekCall {
  /** Full method name, `/pkg.Service/Method`. */
  readonly method: string;
  /** The request metadata (the cases find their call id in it). */
  readonly metadata: Metadata;
  /** The first request message's payload, uncompressed; `null` when the client sent none. */
  firstMessage(): Promise<Buffer | null>;
}

/** The route the peek director returns: one backend, as the proxy's routes name backends. */
export interface PeekRoute<Backend> {
  /** What {@link PeekConformanceOptions.backend} made of one echo backend's address. */
  readonly backend: Backend;
}

/**
 * A director that awaits `firstMessage()` before routing. Assignable to `StreamDirector` of
 * `@grpc-proxy/handler` when `Backend` is a `RouteBackend` (e.g. `{ target }` on the `node:http2`
 * engine, a `createBackend` backend on either engine).
 */
export type PeekingDirector<Backend> = (call: PeekCall) => Promise<PeekRoute<Backend>>;

/**
 * How `firstMessage()` settled for one call: a payload, `null`, or the rejection's error, with
 * its `code` and `details` when it carries a gRPC status (as `ProxyStatusError` does).
 */
export type PeekOutcome =
  | { readonly kind: 'message'; readonly message: Buffer }
  | { readonly kind: 'null' }
  | { readonly kind: 'rejected'; readonly error: unknown; code?: number; details?: string };

/** One call the peek director was asked about. */
export interface PeekRecord {
  readonly method: string;
  /** The call's {@link CALL_ID_KEY}, if it carried one. */
  readonly callId: string | undefined;
  /** How `firstMessage()` settled; undefined while the director still awaits it. */
  outcome: PeekOutcome | undefined;
}

/** A first payload starting with this byte routes to backend `b`; anything else to `a`. */
export const ROUTE_TO_B = 0x62; // 'b'
/** A first payload equal to this makes the director reject the call after the peek. */
export const DENY_PAYLOAD = Buffer.from('deny');
/** The status the director rejects a {@link DENY_PAYLOAD} call with. */
export const DENIED = {
  code: Status.PERMISSION_DENIED,
  details: 'peek director: the first message says deny',
};

/** A status error shaped as grpc-js's `ServiceError`, which every engine passes on as it is. */
class DeniedError extends Error {
  readonly code = DENIED.code;
  readonly details = DENIED.details;
  constructor() {
    super(DENIED.details);
  }
}

function statusOf(error: unknown): { code?: number; details?: string } {
  if (error === null || typeof error !== 'object') return {};
  const { code, details } = error as { code?: unknown; details?: unknown };
  return {
    code: typeof code === 'number' ? code : undefined,
    details: typeof details === 'string' ? details : undefined,
  };
}

/** The director's log: every call it was asked about, and waits on what it records. */
export class PeekLog {
  readonly records: PeekRecord[] = [];
  private readonly waiters = new Set<() => void>();

  /** Adds a record and wakes the waiters. */
  add(record: PeekRecord): void {
    this.records.push(record);
    this.changed();
  }

  /** Wakes the waiters after a record changed. */
  changed(): void {
    for (const waiter of this.waiters) waiter();
  }

  /** The records of the call with id `callId`. */
  of(callId: string): PeekRecord[] {
    return this.records.filter((record) => record.callId === callId);
  }

  /**
   * Resolves with the record of call `callId` once `predicate` holds for it; fails after
   * `timeoutMs` saying `description` did not happen.
   */
  async waitFor(
    callId: string,
    description: string,
    timeoutMs: number,
    predicate: (record: PeekRecord) => boolean = () => true,
  ): Promise<PeekRecord> {
    let waiter: (() => void) | undefined;
    const found = new Promise<PeekRecord>((resolve) => {
      waiter = () => {
        const record = this.of(callId).find(predicate);
        if (record !== undefined) resolve(record);
      };
      this.waiters.add(waiter);
      waiter();
    });
    try {
      return await within(`${description} (call id ${callId})`, timeoutMs, found);
    } finally {
      if (waiter !== undefined) this.waiters.delete(waiter);
    }
  }
}

/**
 * The peek cases' director: awaits `firstMessage()`, records how it settled in `log`, rethrows a
 * rejection as it is (so the client gets the call's status), rejects a {@link DENY_PAYLOAD} call
 * with {@link DENIED}, and routes a call whose first payload starts with {@link ROUTE_TO_B} to
 * `backends.b`, every other (and a `null` one) to `backends.a`.
 */
export function peekDirector<Backend>(
  log: PeekLog,
  backends: { readonly a: Backend; readonly b: Backend },
): PeekingDirector<Backend> {
  return async (call) => {
    const id = call.metadata.get(CALL_ID_KEY)[0];
    const record: PeekRecord = {
      method: call.method,
      callId: typeof id === 'string' ? id : undefined,
      outcome: undefined,
    };
    log.add(record);
    let message: Buffer | null;
    try {
      message = await call.firstMessage();
    } catch (error) {
      record.outcome = { kind: 'rejected', error, ...statusOf(error) };
      log.changed();
      throw error;
    }
    record.outcome = message === null ? { kind: 'null' } : { kind: 'message', message };
    log.changed();
    const payload = message === null ? Buffer.alloc(0) : EchoRequest.decode(message).payload;
    if (payload.equals(DENY_PAYLOAD)) throw new DeniedError();
    return { backend: payload[0] === ROUTE_TO_B ? backends.b : backends.a };
  };
}
