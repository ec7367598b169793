import { Metadata, ServerInterceptingCall, status } from '@grpc/grpc-js';
import type { ServerInterceptingCallInterface, ServerInterceptor } from '@grpc/grpc-js';

type InterceptingServerListener = Parameters<ServerInterceptingCall['start']>[0];
type PartialStatusObject = Parameters<ServerInterceptingCall['sendStatus']>[0];

/**
 * One call as the tracker sees it: everything is passed on, and the call is tracked from
 * creation until its status is sent or it is cancelled.
 */
class TrackedCall extends ServerInterceptingCall {
  private listener?: InterceptingServerListener;
  private ended = false;

  constructor(
    next: ServerInterceptingCallInterface,
    private readonly onEnd: (call: TrackedCall) => void,
  ) {
    super(next);
  }

  override start(listener: InterceptingServerListener): void {
    this.listener = listener;
    super.start({
      onReceiveMetadata: (metadata) => listener.onReceiveMetadata(metadata),
      onReceiveMessage: (message) => listener.onReceiveMessage(message),
      onReceiveHalfClose: () => listener.onReceiveHalfClose(),
      onCancel: () => {
        this.end();
        listener.onCancel();
      },
    });
  }

  override sendMetadata(metadata: Metadata): void {
    if (!this.ended) super.sendMetadata(metadata);
  }

  override sendMessage(message: unknown, callback: () => void): void {
    // After a forced end the handler may still write; its callback must run so it does not wait forever.
    if (this.ended) callback();
    else super.sendMessage(message, callback);
  }

  override sendStatus(statusObject: PartialStatusObject): void {
    if (this.ended) return;
    this.end();
    super.sendStatus(statusObject);
  }

  override startRead(): void {
    if (!this.ended) super.startRead();
  }

  /** Ends the call with `statusObject` and tells the handler above that its call is over. */
  forceEnd(statusObject: PartialStatusObject): void {
    if (this.ended) return;
    this.end();
    super.sendStatus(statusObject);
    this.listener?.onCancel();
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd(this);
  }
}

/** Keeps the calls a grpc-js server is serving, so that a drain can end the stragglers. */
export interface CallTracker {
  /** Add to the server's `interceptors` option (first, so it sees every call). */
  readonly interceptor: ServerInterceptor;
  /** Calls started and not yet ended. */
  readonly activeCalls: number;
  /**
   * Ends every active call with `UNAVAILABLE` and `details` (grpc-js's `forceShutdown` would end
   * them with `CANCELLED`, which clients read as "I cancelled"), and tells the handler each call
   * is over so it cancels the backend leg.
   */
  endAll(details: string): number;
}

/** Creates a {@link CallTracker}. */
export function createCallTracker(): CallTracker {
  const active = new Set<TrackedCall>();
  const onEnd = (call: TrackedCall) => active.delete(call);
  return {
    interceptor: (_method, next) => {
      const call = new TrackedCall(next, onEnd);
      active.add(call);
      return call;
    },
    get activeCalls() {
      return active.size;
    },
    endAll(details) {
      const calls = [...active];
      for (const call of calls) {
        call.forceEnd({ code: status.UNAVAILABLE, details, metadata: new Metadata() });
      }
      return calls.length;
    },
  };
}
