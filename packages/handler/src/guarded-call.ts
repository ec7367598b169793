/**
 * One call as its client connection's guard sees it (see ./client-guard.ts): the bytes written
 * towards the client and not yet sent, whether the client had an answer before it left, and
 * whether its replies still move (a stalled call's bytes count against the connection's budget).
 */
import { constants, type ServerHttp2Stream } from 'node:http2';
import type { ServerStream } from './forwarding';

/** What the guard keeps of one client connection, shared by its calls. */
export interface ConnectionTally {
  /** Bytes written to its calls' streams and not yet sent. */
  unsentBytes: number;
  /** Its calls started and not closed yet. */
  readonly calls: Set<GuardedCall>;
  /** Its calls waiting for one of those to end (`maxConcurrentStreams`), oldest first. */
  readonly waiting: Set<GuardedCall>;
}

/** On an http2 stream whose call has not begun: its guarded call (see {@link GuardedCall.watch}). */
const GUARDED = Symbol('guarded call');
type WatchedStream = ServerHttp2Stream & { [GUARDED]?: GuardedCall };

/** Shared by every watched stream: no closure per call. */
function onWatchedStreamClose(this: WatchedStream): void {
  this[GUARDED]?.leftBeforeTurn();
}

/** Told when a call's client stream closed; `early` when the client left before any answer. */
export type CallClosed = (connection: ConnectionTally, early: boolean) => void;

/** The proxied call behind a guarded call, told when its client stopped reading. */
export interface StallListener {
  /** The client took none of the replies for `timeoutMs`: end the call, cancel the backend. */
  onStalled(timeoutMs: number): void;
}

/**
 * A started call's standing with its connection's guard. Its replies go through {@link write},
 * which counts the bytes until grpc-js hands them to the socket (its write callback): the http2
 * stream's flow control holds them while the client does not read. One callback per call; a
 * number queued per message in flight, nothing allocated per message.
 */
/** Sweeps without a reply sent (replies waiting) before a call counts as stalled. */
export const STALLED_AFTER_SWEEPS = 2;

export class GuardedCall {
  /** Lengths of the messages written and not yet sent, oldest first. */
  private readonly unsent: number[] = [];
  unsentBytes = 0;
  /** The client had response headers or a status: leaving now is no reset. */
  answered = false;
  /** A reply was sent since the guard last looked. */
  progressed = false;
  /** When the guard first saw bytes waiting without progress (epoch ms; 0: not). */
  stalledSince = 0;
  /**
   * Bytes waited two whole sweeps with none sent: its unsent bytes count against the
   * connection's budget. A call whose client reads, however slowly, holds grpc-js's normal
   * backpressure (up to 16 messages) and sends one of them now and then: it is not counted. Two
   * sweeps, not one: a client reading 100 large streams of one connection on a loaded machine
   * left single streams without a sent message for over a second (CI).
   */
  stalled = false;
  /** Sweeps in a row that found bytes waiting and none sent. */
  private idleSweeps = 0;
  /** Reset for stalling already (the stream closes shortly). */
  private stallHandled = false;
  /** Set by the proxied call once it exists. */
  owner: StallListener | undefined = undefined;
  private closed = false;
  private listening = false;
  /** Refused at once: its close is neither a reset nor an answered call. */
  private refused = false;

  constructor(
    readonly stream: ServerStream,
    /** The http2 stream under the call, when grpc-js's internals give it (./http2-stream-of.ts). */
    readonly http2Stream: ServerHttp2Stream | undefined,
    readonly connection: ConnectionTally,
    /** Epoch ms after which the client leaving is its deadline, not a reset. */
    private readonly countResetUntil: number,
    private readonly onClose: CallClosed,
  ) {}

  /**
   * Counts its client leaving before its call begins as it happens (its http2 stream's 'close',
   * within the read that brought the RST_STREAM), not on its turn: a read of a rapid-reset
   * attack may hold more resets than Node's own limit (nghttp2's: 1 000 at once), which would
   * close the connection first with GOAWAY(INTERNAL_ERROR) instead of ENHANCE_YOUR_CALM.
   */
  watch(): void {
    const http2Stream = this.http2Stream as WatchedStream | undefined;
    if (http2Stream === undefined) return;
    http2Stream[GUARDED] = this;
    http2Stream.on('close', onWatchedStreamClose);
  }

  /** Its client left before its call began: a reset unless its deadline was near; counted once. */
  leftBeforeTurn(): void {
    if (this.closed || this.listening || this.refused) return;
    this.closed = true;
    this.onClose(this.connection, Date.now() < this.countResetUntil);
  }

  /** Waits for a call of its connection to end; its client may leave meanwhile. */
  queue(): void {
    this.connection.waiting.add(this);
    this.listen();
  }

  /** Runs, among its connection's calls until its client stream closes. */
  track(): void {
    this.connection.waiting.delete(this);
    this.connection.calls.add(this);
    this.listen();
  }

  /** Refused at once (a limit), after waiting or not. */
  refuse(): void {
    this.refused = true;
    this.connection.waiting.delete(this);
  }

  /**
   * Whether its client left: grpc-js's `cancelled`, or before that its http2 stream closed or
   * its connection destroyed (Node destroys the streams at once, grpc-js hears of it a tick later).
   */
  get gone(): boolean {
    if (this.closed || this.stream.cancelled) return true;
    const http2Stream = this.http2Stream;
    if (http2Stream === undefined) return false;
    return http2Stream.closed || http2Stream.destroyed || http2Stream.session?.destroyed !== false;
  }

  /** grpc-js sends `cancelled` on every close of the call, after a status too. */
  private listen(): void {
    if (this.listening) return;
    this.listening = true;
    this.stream.once('cancelled', this.onCancelled);
  }

  /** Writes `message` to the client; `false` when its buffer is full (wait for `'drain'`). */
  write(message: Buffer): boolean {
    const length = message.length;
    this.unsent.push(length);
    this.unsentBytes += length;
    this.connection.unsentBytes += length;
    return this.stream.write(message, this.onSent);
  }

  private readonly onSent = (): void => {
    const length = this.unsent.shift() ?? 0;
    this.progressed = true;
    this.stalled = false;
    if (this.closed) return;
    this.unsentBytes -= length;
    this.connection.unsentBytes -= length;
  };

  private readonly onCancelled = (): void => {
    if (this.closed) return;
    this.closed = true;
    const connection = this.connection;
    connection.waiting.delete(this);
    connection.calls.delete(this);
    connection.unsentBytes -= this.unsentBytes;
    this.unsentBytes = 0;
    if (!this.refused) {
      this.onClose(connection, !this.answered && Date.now() < this.countResetUntil);
    }
  };

  /**
   * Called by the guard's every sweep: replies waiting and none sent for two sweeps, while the
   * client took no reply of its connection's other calls either (`connectionMoved` false), mark
   * the call {@link stalled}; none sent for `timeoutMs` (a zero-window reader; `0`: never) end
   * the proxied call (its backend call cancelled), then the client's stream is reset, which frees
   * what it held; the status could not reach a client that reads nothing anyway.
   */
  checkStall(now: number, timeoutMs: number, connectionMoved: boolean): void {
    if (this.unsentBytes === 0 || this.progressed || this.stalledSince === 0) {
      this.progressed = false;
      this.stalled = false;
      this.idleSweeps = 0;
      this.stalledSince = this.unsentBytes === 0 ? 0 : now;
      return;
    }
    this.idleSweeps++;
    this.stalled = !connectionMoved && this.idleSweeps >= STALLED_AFTER_SWEEPS;
    if (timeoutMs === 0 || now - this.stalledSince < timeoutMs || this.stallHandled) return;
    this.stallHandled = true;
    this.owner?.onStalled(timeoutMs);
    this.http2Stream?.close(constants.NGHTTP2_CANCEL);
  }
}
