/**
 * What a fan-out call's client gets from its backends' answers (rules of `FanOutBackend`, see
 * ./contracts.ts), with no transport: each engine feeds it its backend calls' messages and ends
 * ("legs") and does what it asks through a {@link FanOutSink}. Generic in `T`, the engine's form
 * of a leg's trailers (grpc-js `Metadata`, or `node:http2` headers).
 */
import { status, type Metadata, type StatusObject } from '@grpc/grpc-js';
import type { FanOutFailure, FanOutOutcome } from './contracts';
import type { checkFanOut } from './fan-out';
import { describeError, directorRejection } from './status-error';

/** How one backend call (leg) of a fan-out ended. */
export interface FanOutLegEnd<T> {
  readonly code: status;
  readonly details: string;
  /** Its trailers, in the engine's form. */
  readonly trailers: T;
  /** True when the proxy made the status (backend unreachable, ...). */
  readonly proxyError: boolean;
}

/** What the results ask of the engine. Each `end*`/`fail` is called at most once, last. */
export interface FanOutSink<T> {
  /** A message for the client, now: a backend's (`'stream'`), `onError`'s, or the merged one. */
  toClient(message: Buffer): void;
  /** End the call `OK`, with these legs' trailers merged in this order. */
  endOk(trailers: readonly T[]): void;
  /** End the call with leg `leg`'s failure, status and trailers unchanged (cancel the others). */
  endWithFailure(leg: number, end: FanOutLegEnd<T>): void;
  /**
   * End the call with the proxy's own status (`onError` or `merge` failed, merge too large):
   * `details` is to be prefixed with the proxy's name, as for the engine's other failures.
   */
  fail(code: status, details: string, error?: unknown): void;
  /**
   * End the call with exactly `final` (`onError` or `merge` threw a `ProxyStatusError`, as a
   * director may); `error` is what was thrown.
   */
  reject(final: StatusObject, error: unknown): void;
  /** A leg's trailers as grpc-js `Metadata`, for `onError` (only asked on a failure). */
  metadataOf(trailers: T): Metadata;
}

type CheckedFanOut = ReturnType<typeof checkFanOut>;

/** The answers of the legs of one fan-out call, and what they make of the call. */
export class FanOutResults<T> {
  private readonly ends: (FanOutLegEnd<T> | undefined)[];
  private readonly messages: number[];
  /** `'merge'` mode: each leg's messages (or its `onError` message), held until all ended. */
  private readonly held: Buffer[][] | undefined;
  private heldBytes = 0;
  private running: number;
  private succeeded = 0;
  private failureMessages = 0;
  private firstFailure = -1;
  private done = false;

  constructor(
    private readonly fanOut: CheckedFanOut,
    /** The legs' backend names, in `fanOut.backends` order. */
    private readonly names: readonly string[],
    private readonly sink: FanOutSink<T>,
    /** The send size limit: a merged message (or what is held for it) over it fails the call. */
    private readonly maxMessageBytes: number,
  ) {
    const count = names.length;
    this.running = count;
    this.ends = new Array<FanOutLegEnd<T> | undefined>(count).fill(undefined);
    this.messages = new Array<number>(count).fill(0);
    this.held = fanOut.responses === 'merge' ? names.map(() => []) : undefined;
  }

  /** True once the call's end was asked of the sink: nothing more is forwarded. */
  get ended(): boolean {
    return this.done;
  }

  /** A message from leg `leg`: sent on at once (`'stream'`), or held for the merge. */
  message(leg: number, message: Buffer): void {
    if (this.done) return;
    this.messages[leg]++;
    if (this.held === undefined) {
      this.sink.toClient(message);
      return;
    }
    this.hold(leg, message);
  }

  /** Leg `leg` ended; the call ends when the policy says so or when it was the last one. */
  legEnded(leg: number, end: FanOutLegEnd<T>): void {
    if (this.ends[leg] !== undefined) return;
    this.ends[leg] = end;
    this.running--;
    if (this.done) return;
    if (end.code === status.OK) this.succeeded++;
    else if (!this.failed(leg, end)) return;
    if (this.running === 0) this.finish();
  }

  /**
   * How each leg ended, for `CallReport.fanOut`; a leg still running is reported with
   * `unfinished` (the status the engine cancelled it with).
   */
  outcomes(unfinished: { code: status; details: string }): FanOutOutcome[] {
    return this.names.map((backend, leg) => {
      const end = this.ends[leg];
      return end === undefined
        ? { backend, ...unfinished, proxyError: true, messages: this.messages[leg] }
        : {
            backend,
            code: end.code,
            details: end.details,
            proxyError: end.proxyError,
            messages: this.messages[leg],
          };
    });
  }

  /** Applies `onError` to a failed leg; false when the call ended on it. */
  private failed(leg: number, end: FanOutLegEnd<T>): boolean {
    if (this.firstFailure < 0) this.firstFailure = leg;
    const onError = this.fanOut.onError;
    if (onError === 'first-error') {
      this.done = true;
      this.sink.endWithFailure(leg, end);
      return false;
    }
    if (onError === 'skip') return true;
    let replacement: Buffer | null;
    try {
      replacement = onError(this.failureOf(leg, end));
    } catch (error) {
      this.failWith(error, 'onError');
      return false;
    }
    if (replacement === null || replacement === undefined) return true;
    if (!Buffer.isBuffer(replacement)) {
      this.fail(status.INTERNAL, 'fan-out onError returned no Buffer (nor null)');
      return false;
    }
    this.failureMessages++;
    if (this.held === undefined) this.sink.toClient(replacement);
    else this.hold(leg, replacement);
    return !this.done;
  }

  private failureOf(leg: number, end: FanOutLegEnd<T>): FanOutFailure {
    return {
      backend: this.names[leg],
      index: leg,
      code: end.code,
      details: end.details,
      metadata: this.sink.metadataOf(end.trailers),
    };
  }

  private hold(leg: number, message: Buffer): void {
    this.held![leg].push(message);
    this.heldBytes += message.length;
    if (this.heldBytes > this.maxMessageBytes) {
      this.fail(
        status.RESOURCE_EXHAUSTED,
        `fan-out responses to merge are ${this.heldBytes} bytes, more than maxSendMessageLength (${this.maxMessageBytes})`,
      );
    }
  }

  /** Every leg ended without the policy ending the call first. */
  private finish(): void {
    this.done = true;
    if (this.succeeded === 0 && this.failureMessages === 0) {
      const leg = this.firstFailure;
      this.sink.endWithFailure(leg, this.ends[leg]!);
      return;
    }
    if (this.held !== undefined && !this.sendMerged(this.held)) return;
    const trailers: T[] = [];
    for (const end of this.ends)
      if (end !== undefined && end.code === status.OK) trailers.push(end.trailers);
    this.sink.endOk(trailers);
  }

  /** Sends the one merged message (none when no leg sent any); false when the call failed. */
  private sendMerged(held: readonly Buffer[][]): boolean {
    const parts: Buffer[] = [];
    for (const messages of held) if (messages.length > 0) parts.push(...messages);
    if (parts.length === 0) return true;
    const merge = this.fanOut.merge;
    let merged: Buffer;
    try {
      merged = merge === undefined ? Buffer.concat(parts) : merge(parts);
    } catch (error) {
      this.failWith(error, 'merge');
      return false;
    }
    if (!Buffer.isBuffer(merged)) {
      this.fail(status.INTERNAL, 'fan-out merge returned no Buffer');
      return false;
    }
    if (merged.length > this.maxMessageBytes) {
      this.fail(
        status.RESOURCE_EXHAUSTED,
        `merged fan-out response is ${merged.length} bytes, more than maxSendMessageLength (${this.maxMessageBytes})`,
      );
      return false;
    }
    this.sink.toClient(merged);
    return true;
  }

  /** `onError` or `merge` threw: a status error's code and message, else `INTERNAL`. */
  private failWith(error: unknown, what: 'onError' | 'merge'): void {
    const rejection = directorRejection(error);
    if (rejection === null) {
      this.fail(status.INTERNAL, `fan-out ${what} failed: ${describeError(error)}`, error);
      return;
    }
    this.done = true;
    this.sink.reject(rejection, error);
  }

  private fail(code: status, details: string, error?: unknown): void {
    this.done = true;
    this.sink.fail(code, details, error);
  }
}
