/**
 * Per-client-connection defences of the http2 engine (see ./client-limits.ts): the streams a
 * connection resets before their answer are counted (rapid reset: GOAWAY(ENHANCE_YOUR_CALM) and
 * close), a connection whose stalled streams hold too many unread bytes may open no new stream,
 * a stream whose replies wait on a client that reads nothing is reset, and a connection without
 * streams is closed once idle. One sweep timer per proxy serves the last three (it marks the
 * stalled streams); nothing runs per DATA chunk.
 */
import { constants, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import { CallQueue, type CallStarter } from './call-queue';
import type { ResolvedClientLimits } from './client-limits';
import type { Http2IncomingCall } from './incoming-call';
import { StreamList } from './stream-list';

const GUARD = Symbol('client guard');
/** When the stream was first seen with a full buffer and no progress since (epoch ms; 0: not). */
const STALLED_AT = Symbol('stalled at');
/** Its bytes waiting then: fewer later is progress (a slow reader is not a stalled one). */
const WAITING = Symbol('bytes waiting');
/** No progress for a whole sweep: its bytes count against the connection's budget. */
const STALLED = Symbol('stalled');
/** Resets after this time (epoch ms) are the client's deadline firing, not abuse. */
const COUNT_RESET_UNTIL = Symbol('count a reset until');
/** Who else hears that the stream closed (its proxied call), after the guard. */
const CLOSE_LISTENER = Symbol('close listener');

/** Hears that a client stream closed. */
export interface StreamCloseListener {
  streamClosed(): void;
}

type GuardedSession = Http2Session & { [GUARD]?: ClientGuard };
type GuardedStream = ServerHttp2Stream & {
  [GUARD]?: ClientGuard;
  [STALLED_AT]?: number;
  [WAITING]?: number;
  [STALLED]?: boolean;
  [COUNT_RESET_UNTIL]?: number;
  [CLOSE_LISTENER]?: StreamCloseListener;
};

/** A reset at 90 % of a call's timeout or later is taken as the client's deadline. */
const DEADLINE_SHARE = 0.9;
/**
 * The sweep runs at a quarter of the shortest timeout it serves, between these bounds (the
 * longest without any): a stream whose buffer stayed full with nothing sent for a whole sweep is
 * stalled.
 */
const MIN_SWEEP_MS = 25;
const MAX_SWEEP_MS = 1000;

/** The state of one client connection. */
class ClientGuard {
  readonly streams = new StreamList();
  idleSince = Date.now();
  /** Tripped: the connection is being closed; its streams are refused. */
  calm = false;
  /** In the current one-second window: streams reset before their answer, and the others. */
  private resets = 0;
  private answered = 0;
  private windowStart = 0;

  readonly calls: CallQueue;

  constructor(
    readonly session: Http2Session,
    private readonly limits: ResolvedClientLimits,
    startCall: CallStarter,
    /** The guards of the proxy's open connections, this one among them until it closes. */
    readonly open: Set<ClientGuard>,
  ) {
    this.calls = new CallQueue(limits.maxConcurrentStreams, startCall, this);
  }

  /** A connection whose stalled streams hold more unread bytes than its budget starts no call. */
  mayStart(): boolean {
    return this.streams.size <= 1 || !this.overBudget();
  }

  /**
   * Whether the connection's stalled streams hold its budget or more, summed over every stream
   * each time (a sum remembered for even a millisecond let a burst of new streams in past the
   * budget, tried): all its streams first, the stalled ones only when that reaches it. A stream
   * whose client reads, however slowly, holds Node's normal backpressure (its 16 KiB high-water
   * mark plus a chunk) and is not counted: 100 such streams of a slow reader passed 4 MiB.
   */
  overBudget(): boolean {
    const budget = this.limits.maxClientBufferBytes;
    if (this.streams.writableLength() < budget) return false;
    let stalled = 0;
    for (const stream of this.streams) {
      if ((stream as GuardedStream)[STALLED] === true) stalled += stream.writableLength;
    }
    return stalled >= budget;
  }

  /**
   * A stream closed: `early` when the client reset it before its answer. A connection may reset
   * as many streams in a second as it let finish, plus the limit: a client that cancels part of
   * its calls (hedging, deadlines) is never cut, while resets cannot multiply the backend work
   * past what the stream limit allows real calls.
   */
  streamClosed(early: boolean): void {
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.resets = 0;
      this.answered = 0;
    }
    if (!early) this.answered++;
    else if (++this.resets > this.limits.maxClientResetsPerSecond + this.answered) this.trip();
  }

  private trip(): void {
    if (this.calm) return;
    this.calm = true;
    // The final GOAWAY carries ENHANCE_YOUR_CALM; the running streams end with the connection
    // and their backend streams are cancelled.
    if (!this.session.destroyed) {
      const limit = this.limits.maxClientResetsPerSecond;
      const error = new Error(`more than ${limit} streams reset before their answer in 1 s`);
      this.session.destroy(error, constants.NGHTTP2_ENHANCE_YOUR_CALM);
    }
  }
}

function onStreamClose(this: GuardedStream): void {
  const guard = this[GUARD];
  if (guard === undefined) return;
  guard.streams.delete(this);
  if (guard.streams.size === 0) guard.idleSince = Date.now();
  guard.calls.ended(this);
  const code = this.rstCode;
  guard.streamClosed(
    code !== undefined &&
      code !== constants.NGHTTP2_NO_ERROR &&
      !this.headersSent &&
      Date.now() < (this[COUNT_RESET_UNTIL] ?? Infinity),
  );
  this[CLOSE_LISTENER]?.streamClosed();
}

/**
 * Makes `listener` hear that `stream` closed: through the guard's own 'close' listener when the
 * stream is guarded (one listener per stream, no closure per call), else with one of its own.
 */
export function onClientStreamClose(
  stream: ServerHttp2Stream,
  listener: StreamCloseListener,
): void {
  const guarded = stream as GuardedStream;
  if (guarded[GUARD] !== undefined) guarded[CLOSE_LISTENER] = listener;
  else stream.on('close', () => listener.streamClosed());
}

/** Keeps a stream's error (a reset, a write after close) from throwing: 'close' follows. */
export function ignoreError(): void {}

/** Shared by every connection (no closure per connection, see the idle-connection figures). */
function onSessionClose(this: GuardedSession): void {
  const guard = this[GUARD];
  guard?.open.delete(guard);
}

function onStreamDrain(this: GuardedStream): void {
  this[STALLED_AT] = 0;
  this[STALLED] = false;
}

/** The status went out: the call is over, though the client may not have half-closed yet. */
function onStreamFinish(this: GuardedStream): void {
  this[GUARD]?.calls.ended(this);
}

/** The client connections of one proxy, each with its {@link ClientGuard}. */
export class ClientGuards {
  private readonly guards = new Set<ClientGuard>();
  private readonly sweepTimer: NodeJS.Timeout | undefined;

  /** @param startCall starts the proxied call of an admitted stream, when its turn comes. */
  constructor(
    private readonly limits: ResolvedClientLimits,
    private readonly startCall: CallStarter,
  ) {
    const { clientIdleTimeoutMs, clientStallTimeoutMs } = limits;
    const shortest = Math.min(clientIdleTimeoutMs || Infinity, clientStallTimeoutMs || Infinity);
    // Always: the budget counts the streams the sweep found stalled.
    const sweepMs = Math.min(MAX_SWEEP_MS, Math.max(MIN_SWEEP_MS, shortest / 4));
    this.sweepTimer = setInterval(this.sweep, sweepMs);
    this.sweepTimer.unref();
  }

  /** The client connections open now. */
  sessions(): Http2Session[] {
    return [...this.guards].map((guard) => guard.session);
  }

  /** A new client connection. */
  add(session: Http2Session): void {
    const guard = new ClientGuard(session, this.limits, this.startCall, this.guards);
    (session as GuardedSession)[GUARD] = guard;
    this.guards.add(guard);
    session.once('close', onSessionClose);
  }

  /**
   * A new stream with `timeoutMs` of its call's `grpc-timeout` (`Infinity`: none): tracked, or
   * refused (closed with REFUSED_STREAM, `false`) when its connection is tripped or holds more
   * unread bytes than the budget.
   */
  admit(stream: ServerHttp2Stream, timeoutMs: number): boolean {
    const guarded = stream as GuardedStream;
    const guard = (stream.session as GuardedSession | undefined)?.[GUARD];
    if (guard === undefined) return true;
    // Until its call starts (next turn, or later when queued), the stream may error: refused
    // here, or closed with a connection the guard destroys.
    stream.on('error', ignoreError);
    if (guard.calm || (guard.streams.size > 0 && guard.overBudget())) {
      stream.close(constants.NGHTTP2_REFUSED_STREAM);
      return false;
    }
    guarded[GUARD] = guard;
    if (timeoutMs !== Infinity) {
      guarded[COUNT_RESET_UNTIL] = Date.now() + timeoutMs * DEADLINE_SHARE;
    }
    guard.streams.add(guarded);
    // 'on', not 'once': both fire once per stream, and 'once' wraps each listener per call.
    stream.on('close', onStreamClose);
    stream.on('drain', onStreamDrain);
    stream.on('finish', onStreamFinish);
    return true;
  }

  /**
   * The call of an admitted stream that is still open: started, or queued behind the calls its
   * connection runs already (`maxConcurrentStreams`).
   */
  start(stream: ServerHttp2Stream, incoming: Http2IncomingCall): void {
    const guard = (stream as GuardedStream)[GUARD];
    if (guard === undefined) this.startCall(stream, incoming);
    else guard.calls.start(stream, incoming);
  }

  /** Stops the sweep (the proxy is closing). */
  close(): void {
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
  }

  private readonly sweep = (): void => {
    const now = Date.now();
    const { clientIdleTimeoutMs, clientStallTimeoutMs } = this.limits;
    for (const guard of this.guards) {
      if (guard.streams.size === 0) {
        const idle = clientIdleTimeoutMs > 0 && now - guard.idleSince >= clientIdleTimeoutMs;
        // close(): GOAWAY, then the connection ends (it has no stream to finish).
        if (idle && !guard.session.closed) guard.session.close();
      } else {
        for (const stream of guard.streams)
          stall(stream as GuardedStream, now, clientStallTimeoutMs);
      }
    }
  };
}

/**
 * A stream whose buffer towards the client is full (its backend stream is paused) and that sent
 * nothing since the last sweep is stalled (the budget counts it); nothing for `timeoutMs` (`0`:
 * never), it is reset: the proxied call ends as if the client had cancelled it, and cancels its
 * backend stream. While its backend stream is paused its buffer only shrinks, until 'drain'.
 */
function stall(stream: GuardedStream, now: number, timeoutMs: number): void {
  if (!stream.writableNeedDrain) {
    stream[STALLED_AT] = 0;
    stream[STALLED] = false;
    return;
  }
  const waiting = stream.writableLength;
  const since = stream[STALLED_AT] ?? 0;
  if (since === 0 || waiting < (stream[WAITING] ?? Infinity)) {
    stream[STALLED_AT] = now;
    stream[WAITING] = waiting;
    stream[STALLED] = false;
    return;
  }
  stream[STALLED] = true;
  if (timeoutMs > 0 && now - since >= timeoutMs) stream.close(constants.NGHTTP2_CANCEL);
}
