import type { StatusObject } from '@grpc/grpc-js';
import type { CallObserver, CallReport, CallStartInfo, FanOutOutcome } from './contracts';
import { safely } from './warnings';

/**
 * Warns of what an observer threw, as `safely` does. The calls go through try/catch rather than
 * `safely` itself: its closure would be made twice per call, observers being on every call.
 */
function warnThrown(what: string, error: unknown): void {
  safely(what, () => {
    throw error;
  });
}

/**
 * The observer's bookkeeping for one call: counts and sizes of the messages forwarded, and the
 * report at the end. Made only when an observer is set, so a call without one counts nothing.
 */
export class CallRecorder {
  private readonly startTime = performance.now();
  private messagesFromClient = 0;
  private messagesToClient = 0;
  private bytesFromClient = 0;
  private bytesToClient = 0;
  /** Transparent retries; set by the engine before the call ends. */
  retries = 0;
  /** A fan-out call's outcome per backend; set by the engine before the call ends. */
  fanOut: readonly FanOutOutcome[] | undefined = undefined;

  constructor(
    private readonly observer: CallObserver,
    private readonly method: string,
    private readonly peer: string,
  ) {}

  /** Tells the observer the call arrived. */
  started(): void {
    const observer = this.observer;
    if (observer.onCallStart === undefined) return;
    const info: CallStartInfo = { method: this.method, peer: this.peer, startTime: this.startTime };
    try {
      observer.onCallStart(info);
    } catch (error) {
      warnThrown('observer.onCallStart', error);
    }
  }

  /** One message of `bytes` went from the client to the backend. */
  fromClient(bytes: number): void {
    this.messagesFromClient++;
    this.bytesFromClient += bytes;
  }

  /** One message of `bytes` went from the backend to the client. */
  toClient(bytes: number): void {
    this.messagesToClient++;
    this.bytesToClient += bytes;
  }

  /** Tells the observer how the call ended (`final`: its code and message, a `StatusObject` or not). */
  ended(
    final: Pick<StatusObject, 'code' | 'details'>,
    proxyError: boolean,
    backend: string | undefined,
    error: unknown,
  ): void {
    const observer = this.observer;
    if (observer.onCallEnd === undefined) return;
    const report: CallReport = {
      method: this.method,
      peer: this.peer,
      startTime: this.startTime,
      backend,
      code: final.code,
      details: final.details,
      proxyError,
      error,
      durationMs: performance.now() - this.startTime,
      messagesFromClient: this.messagesFromClient,
      messagesToClient: this.messagesToClient,
      bytesFromClient: this.bytesFromClient,
      bytesToClient: this.bytesToClient,
      retries: this.retries,
      fanOut: this.fanOut,
    };
    try {
      observer.onCallEnd(report);
    } catch (error) {
      warnThrown('observer.onCallEnd', error);
    }
  }
}
