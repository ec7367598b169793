/**
 * The mirrored copies of one call on the grpc-js engine (`Route.mirror`, see ./mirror-copy.ts).
 *
 * Copies are made for the attempt the call is finally forwarded on, never for one left for a
 * transparent retry: the messages sent stay pending (by reference, bounded like the retry hold)
 * until the attempt is final — its backend answered (response headers), the request outgrew the
 * retry hold, or the call ended on it. Then one copy per sampled mirror opens and gets the pending
 * messages, then every later one. A call cancelled (client gone, or failed by the proxy) before
 * that makes no copy.
 *
 * When the call ends, its copies are half-closed; one still running `mirrorTimeoutMs` later is
 * cancelled (`dropped`). A call cancelled by its client (or failed by the proxy) drops its copies
 * at once.
 */
import type { Metadata } from '@grpc/grpc-js';
import type { MirrorReport, MirrorRoute, Route } from './contracts';
import { MirrorCopy, type MirrorSource } from './mirror-copy';
import { sampleMirrors } from './mirror-routes';
import type { ResolvedHandlerOptions } from './options';
import { safely } from './warnings';

/** The mirrors of one attempt of a call, and their copies once the attempt is final. */
export class CallMirror {
  /**
   * The mirrors of `route` for this call (sampled now), or undefined: nothing is made for a route
   * without mirrors. Throws a `TypeError` for an invalid `route.mirror` (an invalid route).
   */
  static of(
    route: Route,
    metadata: Metadata,
    source: MirrorSource,
    options: ResolvedHandlerOptions,
  ): CallMirror | undefined {
    if (route.mirror === undefined) return undefined;
    const mirrors = sampleMirrors(route);
    if (mirrors.length === 0) return undefined;
    // Before the call starts: grpc-js's filters add their own headers to the metadata it is given.
    const marked = metadata.clone();
    marked.set(options.mirrorHeader, '1');
    return new CallMirror(mirrors, marked, source, options);
  }

  /** Messages sent while the attempt may still be retried; undefined once copies are made. */
  private pending: Buffer[] | undefined = [];
  private halfClosed = false;
  private copies: MirrorCopy[] | undefined = undefined;
  private running = 0;
  private ended = false;
  private timer: NodeJS.Timeout | undefined = undefined;

  private constructor(
    private readonly mirrors: readonly MirrorRoute[],
    private readonly metadata: Metadata,
    private readonly source: MirrorSource,
    private readonly options: ResolvedHandlerOptions,
  ) {}

  /** A client message sent on the attempt; `final` when the attempt can no longer be retried. */
  message(message: Buffer, final: boolean): void {
    const copies = this.copies;
    if (copies !== undefined) {
      for (const copy of copies) copy.write(message);
      return;
    }
    this.pending?.push(message);
    if (final) this.makeCopies();
  }

  /** The client half-closed. */
  halfClose(): void {
    if (this.halfClosed) return;
    this.halfClosed = true;
    if (this.copies !== undefined) for (const copy of this.copies) copy.halfClose();
  }

  /** The attempt is final (its backend answered): the copies are made now. */
  final(): void {
    if (this.copies === undefined && !this.ended) this.makeCopies();
  }

  /**
   * The call ended. With `cancelMessage` (the client left, or the proxy failed the call) the
   * copies are dropped; otherwise they are made if not yet, half-closed, and given
   * `mirrorTimeoutMs` to finish.
   */
  callEnded(cancelMessage: string | undefined): void {
    if (this.ended) return;
    if (cancelMessage !== undefined) {
      this.ended = true;
      this.pending = undefined;
      if (this.copies !== undefined) for (const copy of this.copies) copy.drop(cancelMessage);
      return;
    }
    this.final();
    this.ended = true;
    for (const copy of this.copies!) copy.halfClose();
    if (this.running === 0) return;
    const timeoutMs = this.options.mirrorTimeoutMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const details = `mirror still running ${timeoutMs} ms after the call ended`;
      for (const copy of this.copies!) copy.drop(details);
    }, timeoutMs);
    this.timer.unref();
  }

  private makeCopies(): void {
    const pending = this.pending ?? [];
    this.pending = undefined;
    const copies: MirrorCopy[] = (this.copies = []);
    for (const mirror of this.mirrors) {
      const copy = new MirrorCopy(mirror, this.source, this.onCopyEnd);
      copies.push(copy);
      this.running++;
      copy.start(this.metadata.clone());
      for (const message of pending) copy.write(message);
      if (this.halfClosed) copy.halfClose();
    }
  }

  private readonly onCopyEnd = (_copy: MirrorCopy, report: MirrorReport): void => {
    if (--this.running === 0 && this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const observer = this.options.observer;
    if (observer?.onMirrorEnd !== undefined) {
      safely('observer.onMirrorEnd', () => observer.onMirrorEnd!(report));
    }
  };
}
