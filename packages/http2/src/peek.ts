/**
 * Peek: the first request message, read for a director that asks for it
 * (`ProxyCall.firstMessage`) while it chooses a route. The chunks read are kept by reference and
 * handed, in order, to the call's forwarding once the backend stream is open, so the backend gets
 * them unchanged before the rest of the stream (and the transparent-retry hold counts them). The
 * read stops at the first whole message (the stream is paused): at most that message and the
 * rest of its last chunk are held, and the size limit is checked as soon as its prefix arrives.
 *
 * Made only for a director that asks: the peek listens through the shared client listeners
 * (./stream-events.ts), and a call that never peeks pays for none of this.
 */
import { kMaxLength } from 'node:buffer';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { gunzip, inflate, type InputType, type ZlibOptions } from 'node:zlib';
import { status } from '@grpc/grpc-js';
import {
  MESSAGE_PREFIX_LENGTH,
  PrefixScanner,
  ScanResult,
  type MessageCounter,
} from '@grpc-proxy/codec';
import { ProxyStatusError } from '@grpc-proxy/handler';
import { scanFailure } from './scan-failure';
import {
  handOverClient,
  listenToClient,
  type ClientEvents,
  type ClientPump,
} from './stream-events';

/** The call a peek reads for. */
export interface PeekOwner {
  /** Ends the call with a failure of the proxy itself (the message gets the proxy's prefix). */
  fail(code: status, details: string): void;
}

/** What a peek needs of the proxy's options. */
export interface PeekOptions {
  readonly maxReceiveMessageLength: number;
  readonly proxyName: string;
}

/** A status a call ended with. */
export interface PeekEnd {
  readonly code: status;
  readonly details: string;
}

type Inflater = (
  buffer: InputType,
  options: ZlibOptions,
  callback: (error: Error | null, result: Buffer) => void,
) => void;

/** How a compressed first message is inflated: the encodings grpc-js has (gzip, deflate). */
function inflaterOf(encoding: string): Inflater | undefined {
  if (encoding === 'gzip') return gunzip;
  return encoding === 'deflate' ? inflate : undefined;
}

function ignore(): void {}

function decideEnd(peek: FirstMessagePeek): void {
  peek.ended();
}

/** One call's peek: made on the director's first `firstMessage()`, settled once. */
export class FirstMessagePeek implements ClientEvents, MessageCounter {
  /** What `firstMessage()` returns. */
  readonly promise: Promise<Buffer | null>;
  private resolve!: (message: Buffer | null) => void;
  private reject!: (error: ProxyStatusError) => void;
  private settled = false;
  /** Every chunk read, by reference, for the backend; given away at {@link handOver}. */
  private held: Buffer[] = [];
  private readonly scanner: PrefixScanner;
  /** The first message's payload length once it is whole; -1 before. */
  private firstLength = -1;
  /** The call ended, or the forwarding took the stream: the peek reads nothing more. */
  private over = false;
  /** The forwarding took the stream (its listeners are the forwarding's). */
  private handedOver = false;
  private stream: ServerHttp2Stream | undefined = undefined;

  constructor(
    private readonly owner: PeekOwner,
    private readonly options: PeekOptions,
    private readonly headers: IncomingHttpHeaders,
  ) {
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // A director that asked and never awaited must not crash the process when the call ends.
    this.promise.catch(ignore);
    this.scanner = new PrefixScanner(options.maxReceiveMessageLength, this);
  }

  /** Starts reading the client's `stream` (its call is choosing a route). */
  read(stream: ServerHttp2Stream): void {
    this.stream = stream;
    listenToClient(stream, this);
    // A half-close without DATA may have ended the readable side before anyone listened.
    if (stream.readableEnded) this.clientEnd();
  }

  /** Asked once the route was chosen: the forwarding reads the stream already. */
  tooLate(): void {
    this.fail(status.FAILED_PRECONDITION, 'firstMessage() was called after the route was chosen');
  }

  /** MessageCounter: a message went whole through the scanner; the first one is the peek's. */
  count(bytes: number): void {
    if (this.firstLength < 0) this.firstLength = bytes;
  }

  clientData(chunk: Buffer): void {
    if (this.over || chunk.length === 0) return;
    this.held.push(chunk);
    const result = this.scanner.scan(chunk);
    if (result !== ScanResult.OK) {
      const failure = scanFailure(result, this.scanner, 'client', 'maxReceiveMessageLength');
      // Ends the call: callEnded() then rejects with the status the client gets.
      this.owner.fail(failure.code, failure.details);
      return;
    }
    if (this.firstLength < 0) return;
    // One message read: the rest waits in the stream (flow control) until a backend takes it.
    this.stream?.pause();
    this.give();
  }

  clientEnd(): void {
    if (this.over || this.firstLength >= 0) return;
    // A client's reset (RST_STREAM alone) ends the readable side too, just before the stream
    // closes: decided a turn later, once such a reset has ended the call (callEnded). (A Node
    // client's cancel half-closes first, and resets a moment later: that reads as a half-close.)
    setImmediate(decideEnd, this);
  }

  /** The client's stream ended before a whole message, and it was not a reset. */
  ended(): void {
    if (this.over || this.settled || this.stream?.closed === true) return;
    if (this.scanner.midMessage) {
      this.owner.fail(status.INTERNAL, 'the client ended its stream inside a message');
    } else {
      this.settle(null, undefined);
    }
  }

  /**
   * The call ended (its status is `end`): a director still waiting gets it as a rejection; asked
   * after a call that ended OK, the message went by already (see {@link tooLate}). The chunks
   * held are dropped.
   */
  callEnded(end: PeekEnd): void {
    this.over = true;
    this.held = [];
    // A stream left paused would never end nor be destroyed (nor let the proxy close): what is
    // left of it flows, and is dropped.
    if (!this.handedOver) this.stream?.resume();
    if (end.code === status.OK) this.tooLate();
    else this.settle(null, new ProxyStatusError(end.code, end.details));
  }

  /**
   * The backend stream is open: `forwarding` takes the client's stream (its data and end) and,
   * first, every chunk the peek read, in order. A peek not settled by now (the director chose
   * without waiting for it) is rejected.
   */
  handOver(forwarding: ClientPump): void {
    const stream = this.stream;
    if (stream === undefined) return;
    this.over = true;
    this.handedOver = true;
    if (!this.settled) {
      this.fail(status.FAILED_PRECONDITION, 'the route was chosen before the first message came');
    }
    // Paused while the listeners change hands; the stream flows again from the next tick, after
    // the held chunks (a full backend buffer pauses it again, as for any chunk).
    stream.pause();
    handOverClient(stream, forwarding);
    stream.resume();
    const held = this.held;
    this.held = [];
    for (const chunk of held) forwarding.clientData(chunk);
  }

  /** The first message is whole: its payload, inflated if it came compressed. */
  private give(): void {
    const held = this.held;
    const end = MESSAGE_PREFIX_LENGTH + this.firstLength;
    const compressed = held[0][0] === 1;
    // A copy (or one made by concat): the director's buffer is never the one the backend gets.
    const bytes = held[0].length >= end ? held[0] : Buffer.concat(held);
    const payload = bytes.subarray(MESSAGE_PREFIX_LENGTH, end);
    if (!compressed) {
      this.settle(bytes === held[0] ? Buffer.from(payload) : payload, undefined);
      return;
    }
    const encoding = String(this.headers['grpc-encoding'] ?? 'identity');
    const inflater = inflaterOf(encoding);
    if (inflater === undefined) {
      // As a gRPC server answers it.
      this.fail(
        status.UNIMPLEMENTED,
        `received message compressed with unsupported encoding "${encoding}"`,
      );
      return;
    }
    const limit = this.options.maxReceiveMessageLength;
    const maxOutputLength = Math.max(1, Math.min(limit, kMaxLength));
    inflater(payload, { maxOutputLength }, (error, inflated) => {
      if (error === null) this.settle(inflated, undefined);
      else if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        this.fail(
          status.RESOURCE_EXHAUSTED,
          `received message that decompresses to a size larger than ${limit}`,
        );
      } else this.fail(status.INTERNAL, `failed to decompress ${encoding}-encoded message`);
    });
  }

  /** Rejects with a status of the proxy's own (the message gets the proxy's prefix). */
  private fail(code: status, details: string): void {
    this.settle(null, new ProxyStatusError(code, `${this.options.proxyName}: ${details}`));
  }

  private settle(message: Buffer | null, error: ProxyStatusError | undefined): void {
    if (this.settled) return;
    this.settled = true;
    if (error === undefined) this.resolve(message);
    else this.reject(error);
  }
}
