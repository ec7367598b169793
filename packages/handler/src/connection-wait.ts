import { connectivityState } from '@grpc/grpc-js';
import type { RawChannel } from './route-backend';

/** True when `channel` failed its last connection attempt (false for a channel that cannot say). */
export function inTransientFailure(channel: RawChannel): boolean {
  try {
    return channel.getConnectivityState(false) === connectivityState.TRANSIENT_FAILURE;
  } catch {
    return false;
  }
}

/** Hears how a {@link ConnectionWait} ended; called at most once, never after `cancel()`. */
export interface ConnectionWaitListener {
  /**
   * The backend call can be opened: the channel connected (or shut down: opening the call says
   * so), or, when `expired`, the wait ran out with the channel still in `TRANSIENT_FAILURE`
   * (grpc-js then fails the call at once with the channel's last connection error).
   */
  onBackendConnectable(expired: boolean): void;
  /**
   * The wait ran out with the channel between attempts, in `state`; or, when `atDeadline`, at
   * `notAfter` (a deadline of the call, nearer than `timeoutMs`) in whatever state: the call is
   * past its deadline, and opening the backend call would not help.
   */
  onBackendNotConnected(state: connectivityState, atDeadline: boolean): void;
}

/**
 * A call's wait for a backend channel that failed its last connection attempt: grpc-js would fail
 * the call at once on the strength of it, even if the backend is back by now. Waits (at most
 * `timeoutMs`, never past `notAfter`, epoch ms) for the channel's next attempt to succeed. The
 * client's messages stay unread meanwhile (backpressure).
 */
export class ConnectionWait {
  /** How long the wait may last, in whole milliseconds. */
  readonly limitMs: number;
  private readonly deadline: number;
  /** True when `notAfter`, not `timeoutMs`, ends the wait. */
  private readonly endsAtNotAfter: boolean;
  private waiting = true;

  constructor(
    private readonly channel: RawChannel,
    timeoutMs: number,
    notAfter: number,
    private readonly listener: ConnectionWaitListener,
  ) {
    const now = Date.now();
    this.deadline = Math.min(now + timeoutMs, notAfter);
    this.endsAtNotAfter = notAfter <= now + timeoutMs;
    this.limitMs = Math.max(0, Math.round(this.deadline - now));
  }

  /** Starts watching; the listener may be called before this returns. */
  start(): void {
    // grpc-js keeps a watcher until the state changes or its deadline passes (it has no way to
    // remove one): a client that leaves meanwhile leaves it for at most that long.
    this.watch(connectivityState.TRANSIENT_FAILURE);
  }

  /** The call ended meanwhile: the listener hears nothing more. */
  cancel(): void {
    this.waiting = false;
  }

  private watch(from: connectivityState): void {
    try {
      this.channel.watchConnectivityState(from, this.deadline, this.onStateChange);
    } catch {
      // Shut down meanwhile: opening the call says so.
      this.waiting = false;
      this.listener.onBackendConnectable(false);
    }
  }

  /** grpc-js connectivity watcher: a state change, or the deadline (`error`). */
  private readonly onStateChange = (error?: Error): void => {
    if (!this.waiting) return;
    const channel = this.channel;
    const state = channel.getConnectivityState(false);
    if (state === connectivityState.READY || state === connectivityState.SHUTDOWN) {
      this.waiting = false;
      this.listener.onBackendConnectable(false);
    } else if (error === undefined) {
      // Between attempts (CONNECTING, IDLE, TRANSIENT_FAILURE again): keep waiting.
      if (state === connectivityState.IDLE) channel.getConnectivityState(true);
      this.watch(state);
    } else {
      this.waiting = false;
      // At a deadline the backend call is not opened: Node timers may fire a millisecond before
      // Date.now() reaches it, and grpc-js would then fail the call UNAVAILABLE at once.
      if (state === connectivityState.TRANSIENT_FAILURE && !this.endsAtNotAfter) {
        this.listener.onBackendConnectable(true);
      } else {
        this.listener.onBackendNotConnected(state, this.endsAtNotAfter);
      }
    }
  };
}
