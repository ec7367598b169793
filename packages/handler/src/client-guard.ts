/**
 * Per-client-connection defences of the grpc-js engine, as the http2 engine has them (issue 18):
 * - calls start one event-loop turn after they arrive, in batches (one `setImmediate` per batch):
 *   a client that resets a stream in the same read as its HEADERS (rapid reset) costs no director
 *   and no backend call;
 * - calls a connection cancels before their answer are counted per second (those reset before
 *   their turn as their stream closes, ahead of nghttp2's own limit): past
 *   `maxClientResetsPerSecond` (beyond those it let finish) the connection gets
 *   GOAWAY(ENHANCE_YOUR_CALM) and is closed, and its calls arriving meanwhile are refused;
 * - a connection whose stalled calls (replies waiting, none sent for two sweeps, each a quarter of
 *   the stall timeout, 25 ms to 1 s, while the client took no reply of the connection's other
 *   calls either: a client reading some stream is a reader, however it shares its window) hold
 *   more than `maxClientBufferBytes` starts no call: its new
 *   streams are refused (RST_STREAM REFUSED_STREAM, which clients retry). Calls whose client
 *   reads, however slowly, are not counted: grpc-js holds up to 16 messages per call under normal
 *   backpressure, and ten 64 KiB streams would pass 4 MiB with a client that reads all the time;
 * - a call whose replies wait `clientStallTimeoutMs` on a client that takes none is ended and its
 *   stream reset (RST_STREAM CANCEL), its backend call cancelled.
 * grpc-js gives handlers no connection: it is the call's http2 session where grpc-js's internals
 * give it (./http2-stream-of.ts), else its peer address (`ip:port`). One sweep timer per handler,
 * running while it knows a connection, marks stalled calls, serves the stall timeout and forgets
 * quiet connections.
 */
import { constants, type Http2Session } from 'node:http2';
import type { ServerStream } from './forwarding';
import { GuardedCall, STALLED_AFTER_SWEEPS, type ConnectionTally } from './guarded-call';
import { http2StreamOf } from './http2-stream-of';
import type { ResolvedHandlerOptions } from './options';

/** Starts a call (or refuses it at once with `refusal`, naming the limit). */
export type GuardedStart = (
  stream: ServerStream,
  guarded: GuardedCall,
  refusal: string | undefined,
) => void;

/** A cancel at 90 % of a call's deadline or later is taken as the deadline. */
const DEADLINE_SHARE = 0.9;
/** The window of the reset count, and how long a quiet connection is remembered. */
const WINDOW_MS = 1000;
/**
 * The sweep runs at a quarter of the stall timeout, between these bounds (the longest when there
 * is none): a call none of whose replies was sent for two whole sweeps is stalled.
 */
const MIN_SWEEP_MS = 25;
const MAX_SWEEP_MS = 1000;

/** One client connection. */
class ClientConnection implements ConnectionTally {
  unsentBytes = 0;
  readonly calls = new Set<GuardedCall>();
  readonly waiting = new Set<GuardedCall>();
  /** In the current one-second window: calls cancelled before their answer, and the others. */
  resets = 0;
  answered = 0;
  windowStart = 0;
  /** Its new calls are refused until then (epoch ms): it passed the reset limit. */
  calmUntil = 0;
  /** Last time one of its calls arrived or closed (epoch ms). */
  touched = Date.now();

  constructor(readonly session: Http2Session | undefined) {}
}

function fallbackKey(stream: ServerStream): ServerStream | string {
  const peer = stream.getPeer();
  return peer === 'unknown' ? stream : peer;
}

/** The client connections of one handler. */
export class ClientGuards {
  private readonly connections = new Map<object | string, ClientConnection>();
  /** The calls arrived since the last turn. */
  private queue: GuardedCall[] = [];
  private scheduled = false;
  private sweepTimer: NodeJS.Timeout | undefined = undefined;
  private readonly sweepMs: number;

  constructor(
    private readonly options: ResolvedHandlerOptions,
    private readonly startCall: GuardedStart,
  ) {
    const stall = options.clientStallTimeoutMs;
    this.sweepMs =
      stall > 0 ? Math.min(MAX_SWEEP_MS, Math.max(MIN_SWEEP_MS, stall / 4)) : MAX_SWEEP_MS;
  }

  /** A call arrived: it starts on the next turn, unless its client left by then. */
  arrive(stream: ServerStream): void {
    const http2Stream = http2StreamOf(stream);
    const connection = this.connectionOf(stream, http2Stream?.session);
    const now = connection.touched;
    const deadline = +stream.getDeadline();
    const countResetUntil =
      deadline === Infinity ? Infinity : now + (deadline - now) * DEADLINE_SHARE;
    const guarded = new GuardedCall(
      stream,
      http2Stream,
      connection,
      countResetUntil,
      this.callClosed,
    );
    // A reset before its turn counts at once, in the read that brought it (rapid reset).
    guarded.watch();
    this.queue.push(guarded);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.run);
    }
  }

  private connectionOf(stream: ServerStream, session: Http2Session | undefined): ClientConnection {
    // Without a session, the peer address; without one either (a unix socket), the call is a
    // connection of its own: no other client may pay for it.
    const key = session ?? fallbackKey(stream);
    let connection = this.connections.get(key);
    if (connection === undefined) {
      connection = new ClientConnection(session);
      this.connections.set(key, connection);
      if (this.sweepTimer === undefined) {
        this.sweepTimer = setInterval(this.sweep, this.sweepMs);
        this.sweepTimer.unref();
      }
    }
    connection.touched = Date.now();
    return connection;
  }

  private readonly run = (): void => {
    const batch = this.queue;
    this.queue = [];
    this.scheduled = false;
    const now = Date.now();
    for (const guarded of batch) this.startOne(guarded, now);
  };

  private startOne(guarded: GuardedCall, now: number): void {
    const connection = guarded.connection as ClientConnection;
    if (guarded.gone) {
      // Reset before its turn: no director, no backend, but a reset all the same (counted once:
      // when its stream closed, or now where grpc-js's internals give no stream).
      guarded.leftBeforeTurn();
    } else if (connection.calls.size >= this.options.maxConcurrentStreams) {
      guarded.queue();
    } else {
      this.begin(guarded, now);
    }
  }

  private begin(guarded: GuardedCall, now: number): void {
    const connection = guarded.connection as ClientConnection;
    if (guarded.http2Stream !== undefined && this.overBudget(connection) !== undefined) {
      // Refused before any director or backend heard of it: the client may retry it at once
      // (grpc-js does, transparently), as on the http2 engine.
      guarded.refuse();
      guarded.http2Stream.close(constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    const refusal = this.refusal(connection, now);
    if (refusal === undefined) guarded.track();
    else guarded.refuse();
    this.startCall(guarded.stream, guarded, refusal);
  }

  /** Starts the calls waiting for a slot of `connection`, as far as slots are free. */
  private startWaiting(connection: ClientConnection, now: number): void {
    const limit = this.options.maxConcurrentStreams;
    for (const next of connection.waiting) {
      if (connection.calls.size >= limit) return;
      // One whose client left leaves the set on its `cancelled`, counted as a reset then.
      if (!next.gone) this.begin(next, now);
    }
  }

  /**
   * The bytes `connection`'s stalled calls hold when they reach `maxClientBufferBytes`. Summed
   * only when all its unsent bytes reach it (rare), over at most `maxConcurrentStreams` calls.
   */
  private overBudget(connection: ClientConnection): number | undefined {
    const budget = this.options.maxClientBufferBytes;
    if (connection.calls.size === 0 || connection.unsentBytes < budget) return undefined;
    let stalled = 0;
    for (const call of connection.calls) if (call.stalled) stalled += call.unsentBytes;
    return stalled >= budget ? stalled : undefined;
  }

  /**
   * Why a new call of `connection` is refused at once with a status, if it is (without its http2
   * stream, which {@link begin} would refuse with REFUSED_STREAM).
   */
  private refusal(connection: ClientConnection, now: number): string | undefined {
    const { maxClientResetsPerSecond, maxClientBufferBytes } = this.options;
    if (now < connection.calmUntil) {
      return `more than ${maxClientResetsPerSecond} calls cancelled before their answer within 1 s on this connection (maxClientResetsPerSecond)`;
    }
    const stalled = this.overBudget(connection);
    if (stalled !== undefined) {
      return `this connection's calls whose client took nothing for ${STALLED_AFTER_SWEEPS * this.sweepMs} ms hold ${stalled} bytes, more than maxClientBufferBytes (${maxClientBufferBytes})`;
    }
    return undefined;
  }

  /**
   * A call's client stream closed: `early` when the client left before its answer. A connection
   * may cancel as many calls in a second as it let finish, plus the limit: a client that cancels
   * part of its calls (hedging, deadlines) is never cut, while resets cannot multiply the backend
   * work past what real calls cost.
   */
  private readonly callClosed = (tally: ConnectionTally, early: boolean): void => {
    const connection = tally as ClientConnection;
    const now = (connection.touched = Date.now());
    if (now - connection.windowStart >= WINDOW_MS) {
      connection.windowStart = now;
      connection.resets = 0;
      connection.answered = 0;
    }
    if (!early) connection.answered++;
    else if (++connection.resets > this.options.maxClientResetsPerSecond + connection.answered) {
      this.trip(connection, now);
    }
    if (connection.waiting.size > 0) this.startWaiting(connection, now);
  };

  private trip(connection: ClientConnection, now: number): void {
    if (now < connection.calmUntil) return;
    connection.calmUntil = connection.windowStart + WINDOW_MS;
    const session = connection.session;
    // GOAWAY(ENHANCE_YOUR_CALM), then the connection closes: its streams end, grpc-js tells
    // their calls the client left, and they cancel their backend calls.
    if (session !== undefined && !session.destroyed) {
      const limit = this.options.maxClientResetsPerSecond;
      // Node hands the error to the server's 'sessionError' (grpc-js has no listener: dropped).
      const error = new Error(`more than ${limit} calls cancelled before their answer in 1 s`);
      session.destroy(error, constants.NGHTTP2_ENHANCE_YOUR_CALM);
    }
  }

  private readonly sweep = (): void => {
    const now = Date.now();
    const stallMs = this.options.clientStallTimeoutMs;
    for (const [key, connection] of this.connections) {
      if (connection.calls.size === 0) {
        const quiet = now - connection.touched >= WINDOW_MS && now >= connection.calmUntil;
        if (quiet) this.connections.delete(key);
      } else {
        // Marks the stalled calls (the budget counts them), and resets those past the timeout. A
        // connection whose client took any reply this sweep is read: none of its calls counts.
        let moved = false;
        for (const call of connection.calls) moved ||= call.progressed;
        for (const call of connection.calls) call.checkStall(now, stallMs, moved);
      }
    }
    if (this.connections.size === 0 && this.sweepTimer !== undefined) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  };

  /** Client connections known now (for tests: the table stays bounded). */
  get size(): number {
    return this.connections.size;
  }
}
