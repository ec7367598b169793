import type {
  ClientHttp2Session,
  ClientHttp2Stream,
  Http2Session,
  OutgoingHttpHeaders,
} from 'node:http2';
import type { AddressSlot, TargetAddresses } from './target-addresses';

const POOLED = Symbol('pooled session');

/** Why a connection attempt failed when the session closed without an error of its own. */
export const CLOSED_BEFORE_SETTINGS =
  'the connection closed before the backend sent its HTTP/2 settings';

/** Hears how a session's connection attempt ended: `undefined` when it connected. */
export type AttemptListener = (pooled: PooledSession, error: Error | undefined) => void;

/** Grows `session`'s connection-level receive window to `size` once it is connected. */
export function widenConnectionWindow(session: Http2Session, size: number): void {
  if (size <= 65_535) return;
  const widen = (): void => session.setLocalWindowSize(size);
  if (session.connecting) session.once('connect', widen);
  else widen();
}

/**
 * Pings `pooled` every `intervalMs` while it runs streams; destroys it when a ping is not
 * answered within `timeoutMs` (its streams then fail), so calls do not sit on a dead connection.
 */
export function keepAlive(pooled: PooledSession, intervalMs: number, timeoutMs: number): void {
  const session = pooled.session;
  const interval = setInterval(() => {
    if (pooled.streams === 0 || session.closed || session.destroyed) return;
    const timer = setTimeout(() => {
      session.destroy(new Error(`keepalive ping not answered within ${timeoutMs} ms`));
    }, timeoutMs);
    // A ping that cannot be sent (session closing) is no sign of a dead peer.
    if (!session.ping(() => clearTimeout(timer))) clearTimeout(timer);
  }, intervalMs);
  interval.unref();
  session.once('close', () => clearInterval(interval));
}

type PooledStream = ClientHttp2Stream & { [POOLED]?: PooledSession };

/**
 * What Node gives a stream of a failed session: its own error, the session's as `cause` (an
 * `Error` of another realm under test runners: not checked with `instanceof`).
 */
function causeOf(error: Error): Error {
  const cause = error.cause as Error | undefined;
  return typeof cause?.message === 'string' ? cause : error;
}

/**
 * Shared by every stream (no closure per call). A stream of a session that fails before it
 * connected hears of it before the session's own `'error'` (Node destroys the streams first):
 * the attempt's failure is settled here, so that whoever retries the call already sees it.
 */
function onPooledStreamError(this: PooledStream, error: Error): void {
  const pooled = this[POOLED];
  if (pooled?.session.destroyed) pooled.failedToConnect(causeOf(error));
}

/**
 * Gives the stream's slot back to its session (a closing session without error: as above); the
 * last stream of a retired session closes it.
 */
function onPooledStreamClose(this: PooledStream): void {
  const pooled = this[POOLED];
  if (pooled === undefined) return;
  pooled.streams--;
  if (pooled.session.destroyed) pooled.failedToConnect(new Error(CLOSED_BEFORE_SETTINGS));
  else if (pooled.streams === 0 && pooled.retired) pooled.session.close();
  else if (pooled.streams === 0) pooled.idleTimer?.refresh();
}

/**
 * One session of the pool, the `:authority` its calls carry, how many streams it runs, and how
 * its connection attempt ended: it connected once the backend's SETTINGS arrived (as grpc-js
 * counts a connection ready), it failed when it errs or closes before.
 */
export class PooledSession {
  /** Streams opened and not yet closed. */
  streams = 0;
  /** The backend's SETTINGS arrived: the connection attempt succeeded. */
  connected = false;
  /** Why the connection attempt failed; the request of a stream on it never reached a backend. */
  failure: Error | undefined = undefined;
  /** Closed by the pool (idle, or its address gone): not a loss. */
  retired = false;
  /** When the connection attempt started (epoch ms). */
  readonly openedAt = Date.now();
  /** The address it connects to; `undefined` while its target's name is being resolved. */
  slot: AddressSlot | undefined = undefined;
  /** Closes the session once it ran no stream for the idle timeout (see `closeWhenIdle`). */
  idleTimer: NodeJS.Timeout | undefined = undefined;
  private connectTimer: NodeJS.Timeout | undefined = undefined;

  constructor(
    readonly session: ClientHttp2Session,
    readonly authority: string,
    /**
     * The backend's `SETTINGS_MAX_CONCURRENT_STREAMS`: until its SETTINGS arrive, what the
     * target's other sessions were told (a burst on a new session would otherwise overshoot it).
     */
    public limit: number,
    /** The pool's target (and TLS options) it belongs to. */
    readonly target: TargetAddresses,
    private readonly settled: AttemptListener,
  ) {}

  /** Whether a new stream may go on this session now. */
  get usable(): boolean {
    return (
      this.streams < this.limit && !this.retired && !this.session.closed && !this.session.destroyed
    );
  }

  /**
   * Takes no new stream from now on, and closes once its streams ended (at once without any): a
   * closing session of Node.js would refuse a stream opened in this very turn.
   */
  retire(): void {
    this.retired = true;
    if (this.streams === 0) this.session.close();
  }

  /** Whether the connection attempt has not ended yet. */
  get connecting(): boolean {
    return !this.connected && this.failure === undefined;
  }

  /**
   * Closes the session once it has run no stream for `timeoutMs`. One timer, restarted each time
   * the last stream ends and ignored when it fires during a stream: unlike Node's
   * `session.setTimeout`, which restarts a timer on every read and write of every stream (about
   * 1.7 µs a call), and closes a session whose long call is quiet.
   */
  closeWhenIdle(timeoutMs: number): void {
    const timer = setTimeout(
      () => {
        if (this.streams > 0) return;
        this.retired = true;
        this.session.close();
      },
      Math.min(timeoutMs, 2 ** 31 - 1),
    );
    timer.unref();
    this.idleTimer = timer;
    this.session.once('close', () => clearTimeout(timer));
  }

  /** Opens a stream on this session. Throws as `session.request` does. */
  request(headers: OutgoingHttpHeaders): ClientHttp2Stream {
    const stream: PooledStream = this.session.request(headers);
    this.streams++;
    stream[POOLED] = this;
    stream.on('error', onPooledStreamError);
    stream.on('close', onPooledStreamClose);
    return stream;
  }

  /**
   * Destroys the session if it has not connected within `timeoutMs` (a target that accepts
   * nothing, or accepts TCP and never speaks HTTP/2), a failed attempt whose error says so.
   */
  limitConnectTime(timeoutMs: number): void {
    if (timeoutMs <= 0 || !this.connecting) return;
    // Past 2^31 - 1 ms Node would fire at once.
    const delayMs = Math.min(timeoutMs, 2 ** 31 - 1);
    this.connectTimer = setTimeout(() => {
      const address = this.slot?.address === undefined ? '' : ` (${this.slot.address})`;
      const error = new Error(
        `connecting to ${this.target.target}${address} timed out after ${timeoutMs} ms`,
      );
      // Settled first: the streams that fail with the session find the attempt's error.
      this.failedToConnect(error);
      this.session.destroy(error);
    }, delayMs);
    this.connectTimer.unref();
  }

  /** The backend's SETTINGS arrived (only the first time counts). */
  connectedNow(): void {
    if (!this.connecting) return;
    this.connected = true;
    this.stopConnectTimer();
    this.settled(this, undefined);
  }

  /** The session failed or closed before it connected (only the first report counts). */
  failedToConnect(error: Error): void {
    if (!this.connecting) return;
    this.failure = error;
    this.stopConnectTimer();
    this.settled(this, error);
  }

  private stopConnectTimer(): void {
    if (this.connectTimer !== undefined) clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
  }
}
