import type { ClientHttp2Stream } from 'node:http2';
import { status } from '@grpc/grpc-js';
import type { BackendRequest } from './backend-request';
import { ReconnectBackoff } from './session-pool';

/** The message of what Node threw (an `Error` of another realm under test runners included). */
function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

/** Node's errors of a session that takes no new stream: the request was never sent. */
const SESSION_GONE = new Set([
  'ERR_HTTP2_GOAWAY_SESSION',
  'ERR_HTTP2_INVALID_SESSION',
  'ERR_HTTP2_OUT_OF_STREAMS',
]);

/** Hears how a {@link BackendOpening} ended; called at most once, never after `cancel()`. */
export interface BackendOpeningListener {
  /** The backend stream is open. */
  onBackendOpen(backend: ClientHttp2Stream, request: BackendRequest): void;
  /**
   * It could not be opened and the request went nowhere (not connected in time, a session gone):
   * an `UNAVAILABLE` attempt that may be retried (the message gets the proxy's prefix);
   * `unreachable` when the target stayed unreachable for the whole connect wait.
   */
  unprocessed(details: string, error: unknown, unreachable?: boolean): void;
  /** It could not be opened: a failure of the proxy (the message gets the proxy's prefix). */
  fail(code: status, details: string, error?: unknown): void;
}

/**
 * Opens a call's backend stream. While the target is between connection attempts (its last one
 * failed), waits for the next attempt, at most `waitMs` and never past the call's deadline, rather
 * than fail at once on the strength of the last failure. The client's messages stay unread
 * meanwhile (backpressure).
 */
export class BackendOpening {
  private timer: NodeJS.Timeout | undefined = undefined;
  private readonly notAfter: number;

  constructor(
    private readonly request: BackendRequest,
    private readonly listener: BackendOpeningListener,
    private readonly waitMs: number,
    deadlineMs: number,
  ) {
    this.notAfter = Math.min(Date.now() + waitMs, deadlineMs);
  }

  /** Tries now; the listener may be called before this returns. */
  start(): void {
    this.attempt();
  }

  /** The call ended meanwhile: the listener hears nothing more. */
  cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly attempt = (): void => {
    this.timer = undefined;
    let backend: ClientHttp2Stream;
    try {
      backend = this.request.open();
    } catch (error) {
      this.failed(error);
      return;
    }
    this.listener.onBackendOpen(backend, this.request);
  };

  private failed(error: unknown): void {
    const name = this.request.target.name;
    if (error instanceof ReconnectBackoff) {
      if (error.retryAt <= this.notAfter) {
        this.timer = setTimeout(this.attempt, Math.max(0, error.retryAt - Date.now()));
        return;
      }
      const cause = error.lastError.message;
      const details = `backend ${name} unavailable: not connected within ${this.waitMs} ms: ${cause}`;
      this.listener.unprocessed(details, error.lastError, true);
      return;
    }
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && SESSION_GONE.has(code)) {
      this.listener.unprocessed(`backend ${name} unavailable: ${messageOf(error)}`, error);
      return;
    }
    // The proxy shuts down, or headers Node refuses.
    this.listener.fail(
      status.UNAVAILABLE,
      `backend ${name} unavailable: ${messageOf(error)}`,
      error,
    );
  }
}
