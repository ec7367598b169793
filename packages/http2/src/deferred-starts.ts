import type { ServerHttp2Stream } from 'node:http2';
import type { Http2IncomingCall } from './incoming-call';

/**
 * Starts calls one turn of the event loop after their HEADERS arrived (one `setImmediate` per
 * batch, nothing allocated per call). A client that resets a stream right after opening it (the
 * rapid-reset pattern) has its RST_STREAM read in the same turn: the stream is closed by then and
 * neither the director nor a backend ever hears of it.
 */
export class DeferredStarts {
  /** Stream, call, stream, call...: flat, so that a batch costs one array. */
  private queue: (ServerHttp2Stream | Http2IncomingCall)[] = [];
  private scheduled = false;

  constructor(
    private readonly start: (stream: ServerHttp2Stream, incoming: Http2IncomingCall) => void,
  ) {}

  /** Starts the call of `stream` on the next turn, unless the stream is closed by then. */
  push(stream: ServerHttp2Stream, incoming: Http2IncomingCall): void {
    this.queue.push(stream, incoming);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.run);
    }
  }

  private readonly run = (): void => {
    const batch = this.queue;
    this.queue = [];
    this.scheduled = false;
    for (let i = 0; i < batch.length; i += 2) {
      const stream = batch[i] as ServerHttp2Stream;
      if (!stream.closed && !stream.destroyed)
        this.start(stream, batch[i + 1] as Http2IncomingCall);
    }
  };
}
