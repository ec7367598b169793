import { status, type Client } from '@grpc/grpc-js';
import { callRawUnary } from '@grpc-proxy/testing';
import { probeService } from './probe-service';

/** One call of a {@link UnaryLoad}. */
export interface LoadCall {
  /** `performance.now()` when the call started and when its status arrived. */
  readonly startedAt: number;
  readonly endedAt: number;
  readonly code: number;
  readonly details: string;
}

/** Callers making unary calls back to back until stopped. */
export interface UnaryLoad {
  /** Every call ended so far, in the order they ended. */
  readonly calls: readonly LoadCall[];
  /** Stops the callers; resolves with every call once the last running one has ended. */
  stop(): Promise<readonly LoadCall[]>;
}

/** Options of {@link startUnaryLoad}. */
export interface UnaryLoadOptions {
  /** Concurrent callers. Default: 20. */
  callers?: number;
  /** Deadline of each call. Default: 5000 ms. */
  deadlineMs?: number;
  /** The callers stop by themselves after this long, whatever happens. Default: 60 000 ms. */
  maxDurationMs?: number;
}

/**
 * Starts `callers` loops, each making `probeService.Unary` calls of a small payload through
 * `client` one after the other, recording every outcome, until {@link UnaryLoad.stop} (or
 * `maxDurationMs`, the bound that ends a case whose stop is never reached).
 */
export function startUnaryLoad(client: Client, options: UnaryLoadOptions = {}): UnaryLoad {
  const { callers = 20, deadlineMs = 5000, maxDurationMs = 60_000 } = options;
  const calls: LoadCall[] = [];
  const payload = Buffer.from('load');
  const endBy = performance.now() + maxDurationMs;
  let stopped = false;
  const caller = async (): Promise<void> => {
    while (!stopped && performance.now() < endBy) {
      const startedAt = performance.now();
      const outcome = await callRawUnary(client, probeService.Unary.path, payload, {
        options: { deadline: Date.now() + deadlineMs },
      });
      const echoed = outcome.responses.length === 1 && outcome.responses[0].equals(payload);
      const ok = outcome.status.code === status.OK && echoed;
      calls.push({
        startedAt,
        endedAt: performance.now(),
        code: ok || outcome.status.code !== status.OK ? outcome.status.code : status.DATA_LOSS,
        details: ok || outcome.status.code !== status.OK ? outcome.status.details : 'wrong echo',
      });
    }
  };
  const running = Promise.all(Array.from({ length: callers }, caller));
  return {
    calls,
    async stop() {
      stopped = true;
      await running;
      return calls;
    },
  };
}

/** Calls of `calls` that did not end OK. */
export function failedCalls(calls: readonly LoadCall[]): LoadCall[] {
  return calls.filter((call) => call.code !== status.OK);
}

/** Calls per second that ended OK in [`from`, `to`) (`performance.now()` times). */
export function okRate(calls: readonly LoadCall[], from: number, to: number): number {
  const ok = calls.filter(
    (call) => call.code === status.OK && call.endedAt >= from && call.endedAt < to,
  );
  return (ok.length * 1000) / (to - from);
}
