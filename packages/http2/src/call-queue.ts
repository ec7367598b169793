import { constants, type ServerHttp2Stream } from 'node:http2';
import type { Http2IncomingCall } from './incoming-call';

/** Starts the proxied call of a stream. */
export type CallStarter = (stream: ServerHttp2Stream, incoming: Http2IncomingCall) => void;

const RUNNING = Symbol('running');

type QueuedStream = ServerHttp2Stream & { [RUNNING]?: boolean };

/**
 * The calls of one client connection: at most `limit` run at once (their director asked, their
 * backend stream open); the others wait here, in order, costing no backend anything, and start
 * as running ones end. A waiting stream the client resets is skipped.
 */
export class CallQueue {
  private running = 0;
  /** Stream, call, stream, call... from `head` on. */
  private waiting: (ServerHttp2Stream | Http2IncomingCall)[] = [];
  private head = 0;

  constructor(
    private readonly limit: number,
    private readonly startCall: CallStarter,
    /** Says whether the connection may start a call now (if not, the call is refused). */
    private readonly gate: { mayStart(): boolean },
  ) {}

  /** Starts the call now if fewer than `limit` run, else queues it. */
  start(stream: ServerHttp2Stream, incoming: Http2IncomingCall): void {
    if (this.running < this.limit) this.run(stream, incoming);
    else this.waiting.push(stream, incoming);
  }

  /**
   * `stream`'s call is over (its status sent, or the stream closed): if it ran, the next waiting
   * call starts. Called twice per stream at most; the second call does nothing.
   */
  ended(stream: ServerHttp2Stream): void {
    const queued = stream as QueuedStream;
    if (!queued[RUNNING]) return;
    queued[RUNNING] = false;
    this.running--;
    while (this.running < this.limit && this.head < this.waiting.length) {
      const next = this.waiting[this.head] as ServerHttp2Stream;
      const incoming = this.waiting[this.head + 1] as Http2IncomingCall;
      this.head += 2;
      // A stream reset meanwhile, or one of a connection being destroyed, never starts.
      if (!next.closed && !next.destroyed && next.session?.destroyed === false) {
        this.run(next, incoming);
      }
    }
    // The slots already taken go once they are half the array (a queue that never empties).
    if (this.head === this.waiting.length) {
      this.waiting = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
  }

  private run(stream: ServerHttp2Stream, incoming: Http2IncomingCall): void {
    if (!this.gate.mayStart()) {
      // Unprocessed: a client may send it again (a gRPC client does, once, by itself).
      stream.close(constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    this.running++;
    (stream as QueuedStream)[RUNNING] = true;
    this.startCall(stream, incoming);
  }
}
