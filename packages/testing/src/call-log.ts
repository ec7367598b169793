import { EventEmitter } from 'node:events';
import type { Metadata, StatusObject } from '@grpc/grpc-js';
import type { EchoRequest, EchoResponse } from './gen/grpc_proxy/testing/v1/echo';

/** What an echo server saw and did in one call. Updated live while the call runs. */
export interface EchoCallRecord {
  /** Full method path, e.g. `/grpc_proxy.testing.v1.EchoService/Echo`. */
  readonly method: string;
  /** A copy of the request metadata the server received. */
  readonly metadata: Metadata;
  /** The call's deadline as the server saw it (ms since epoch), `Infinity` when none. */
  readonly deadline: number;
  /** Milliseconds left before the deadline when the call started; -1 when there is none. */
  readonly deadlineRemainingMs: number;
  /** The client's address as the server saw it. */
  readonly peer: string;
  /** Every request message received, in order. */
  readonly requests: readonly EchoRequest[];
  /** Every response message sent, in order. */
  readonly responses: readonly EchoResponse[];
  /** The response headers the server sent explicitly, if it did. */
  readonly headers: Metadata | undefined;
  /**
   * Whether the client half-closed its side while the call was running (a cancellation is not
   * a half-close).
   */
  readonly halfClosed: boolean;
  /** The status the server ended the call with (trailers in `metadata`), if it did. */
  readonly status: StatusObject | undefined;
  /** Whether the client cancelled the call before its deadline (grpc-js `'cancelled'` event). */
  readonly cancelled: boolean;
  /** Whether the deadline passed before the server finished the call (not counted as cancelled). */
  readonly deadlineExceeded: boolean;
  /** Whether the call is over: a status was sent, it was cancelled, or its deadline passed. */
  readonly ended: boolean;
}

/** The writable form the service keeps; readers only get {@link EchoCallRecord}. */
export interface MutableEchoCallRecord extends EchoCallRecord {
  requests: EchoRequest[];
  responses: EchoResponse[];
  headers: Metadata | undefined;
  halfClosed: boolean;
  status: StatusObject | undefined;
  cancelled: boolean;
  deadlineExceeded: boolean;
  ended: boolean;
}

/** Options of {@link EchoCallLog.waitFor}. */
export interface WaitForCallOptions {
  /** How long to wait before rejecting. Default: 10000 ms. */
  timeoutMs?: number;
  /** Names what is awaited in the timeout error. Default: `'a matching call'`. */
  description?: string;
}

const DEFAULT_WAIT_TIMEOUT_MS = 10_000;

/** How much an echo server remembers of its calls. */
export interface EchoCallLogOptions {
  /**
   * Most calls kept; beyond it the oldest finished calls are forgotten, so a long benchmark
   * does not grow without bound. `0` keeps no log at all (waits then reject at once).
   * Default: 10000.
   */
  maxCalls?: number;
  /**
   * Whether recorded messages keep their payload bytes; when false they are recorded with
   * empty payloads (every other field kept). Default: true.
   */
  keepPayloads?: boolean;
}

const NO_BYTES = Buffer.alloc(0);

/**
 * The calls an echo server has seen, with a way to await a condition on them without sleeping:
 * every change to a record re-checks the waiting predicates.
 */
export class EchoCallLog {
  private readonly records: MutableEchoCallRecord[] = [];
  private readonly changes = new EventEmitter().setMaxListeners(0);
  private readonly maxCalls: number;
  private readonly keepPayloads: boolean;

  constructor(options: EchoCallLogOptions = {}) {
    this.maxCalls = options.maxCalls ?? 10_000;
    this.keepPayloads = options.keepPayloads ?? true;
  }

  /** Every call so far, oldest first. */
  get calls(): readonly EchoCallRecord[] {
    return this.records;
  }

  /** Starts the record of a new call, forgetting the oldest finished ones beyond the limit. */
  add(record: MutableEchoCallRecord): void {
    if (this.maxCalls === 0) return;
    this.records.push(record);
    while (this.records.length > this.maxCalls) {
      const oldestEnded = this.records.findIndex((call) => call.ended);
      if (oldestEnded < 0) break;
      this.records.splice(oldestEnded, 1);
    }
    this.changed();
  }

  /** The form of a message the log keeps: as is, or without its payload. */
  keep<T extends { payload: Buffer }>(message: T): T {
    return this.keepPayloads ? message : { ...message, payload: NO_BYTES };
  }

  /** Re-checks the waiting predicates; call after every change to a record. */
  changed(): void {
    this.changes.emit('change');
  }

  /** Forgets every call recorded so far (calls still running keep updating their records). */
  clear(): void {
    this.records.length = 0;
  }

  /**
   * Resolves with the first call (oldest first) that matches `predicate`, now or once it does;
   * rejects after `timeoutMs` with an error saying what was awaited and which calls were seen.
   */
  waitFor(
    predicate: (call: EchoCallRecord) => boolean,
    options: WaitForCallOptions = {},
  ): Promise<EchoCallRecord> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
    const description = options.description ?? 'a matching call';
    if (this.maxCalls === 0) {
      return Promise.reject(
        new Error(`the call log is off (maxCalls: 0); cannot wait for ${description}`),
      );
    }
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.records.find(predicate);
        if (found === undefined) return false;
        this.changes.off('change', onChange);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const onChange = (): void => {
        check();
      };
      const timer = setTimeout(() => {
        this.changes.off('change', onChange);
        reject(
          new Error(
            `Timed out after ${timeoutMs} ms waiting for ${description}; calls seen: ${this.summary()}`,
          ),
        );
      }, timeoutMs);
      if (!check()) this.changes.on('change', onChange);
    });
  }

  /** One line per call, for error messages. */
  summary(): string {
    if (this.records.length === 0) return 'none';
    return this.records
      .map(
        (call) =>
          `${call.method} (in ${call.requests.length}, out ${call.responses.length}, ` +
          `status ${call.status?.code ?? '-'}, cancelled ${call.cancelled}, ended ${call.ended})`,
      )
      .join('; ');
  }
}
