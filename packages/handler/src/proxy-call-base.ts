import { status } from '@grpc/grpc-js';
import { ProxyStatusError } from './status-error';

/**
 * What every engine's `ProxyCall` computes alike, made only when a director asks for it: the
 * service name, the `AbortSignal` and the first message (peek). A director that ignores them
 * costs nothing.
 */
export abstract class ProxyCallBase {
  /** Full method name, `/pkg.Service/Method`. */
  abstract readonly method: string;
  private controller: AbortController | undefined = undefined;
  private gone = false;
  private peeked: Promise<Buffer | null> | undefined = undefined;

  /** Service part of the method name, `pkg.Service` (empty when the path is malformed). */
  get service(): string {
    const end = this.method.lastIndexOf('/');
    return this.method.startsWith('/') && end > 0 ? this.method.slice(1, end) : '';
  }

  /** Aborted once the client went away (see {@link clientGone}). */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.gone) this.controller.abort(new Error('client went away'));
    }
    return this.controller.signal;
  }

  /** The client went away, or the call ended before a route: abort the signal if anyone holds it. */
  clientGone(): void {
    this.gone = true;
    this.controller?.abort(new Error('client went away'));
  }

  /** The first request message (see `ProxyCall.firstMessage`): read once, on the first call. */
  firstMessage(): Promise<Buffer | null> {
    this.peeked ??= this.peekFirstMessage();
    return this.peeked;
  }

  /**
   * Engine: starts reading the first request message and holds it for the backend; called at
   * most once, and only when a director asks. Default: rejects with `UNIMPLEMENTED` (an engine
   * that cannot peek).
   */
  protected peekFirstMessage(): Promise<Buffer | null> {
    return Promise.reject(
      new ProxyStatusError(
        status.UNIMPLEMENTED,
        'grpc-proxy: this engine cannot read the first message for a director',
      ),
    );
  }
}
