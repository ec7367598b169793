/**
 * What every engine's `ProxyCall` computes alike, made only when a director asks for it: the
 * service name and the `AbortSignal`. A director that ignores them costs nothing.
 */
export abstract class ProxyCallBase {
  /** Full method name, `/pkg.Service/Method`. */
  abstract readonly method: string;
  private controller: AbortController | undefined = undefined;
  private gone = false;

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
}
