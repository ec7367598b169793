import type { EchoCallRecord } from '../call-log';
import type { EchoServerHandle } from '../echo-server';
import { fail } from './check';
import { withCaseContext } from './context';
import type { CaseContext } from './context';
import type { PeekLog, PeekOutcome, PeekRecord } from './peek-director';
import { CALL_ID_KEY } from './types';
import type { ConformanceOptions } from './types';

/** The receive limit the peek cases give the proxy (`maxReceiveMessageLength`): 64 KiB. */
export const PEEK_RECEIVE_LIMIT = 64 * 1024;

/** What a peek case runs against: the proxy, its two echo backends and the director's log. */
export interface PeekEnvironment {
  /** Where the proxy listens. */
  readonly proxyAddress: string;
  /** The two backends the director routes to. */
  readonly backends: { readonly a: EchoServerHandle; readonly b: EchoServerHandle };
  /** What the director recorded. */
  readonly log: PeekLog;
}

/** What a peek case's body gets: a {@link CaseContext} (backend `a` as its backend) and more. */
export interface PeekCaseContext extends CaseContext {
  readonly backends: PeekEnvironment['backends'];
  readonly log: PeekLog;
  /** Waits for the director's record of call `callId` to settle; fails after a step timeout. */
  settled(callId: string, description: string): Promise<PeekOutcome>;
  /** Calls with these ids each backend recorded. */
  backendCounts(ids: readonly string[]): { a: number; b: number };
  /** The backend record of call `callId` (it must exist) on backend `at`. */
  backendRecord(at: 'a' | 'b', callId: string): EchoCallRecord;
}

/** One named check of a proxy whose director peeks. */
export interface PeekCase {
  /** A stable snake_case name, e.g. `peek_routes_unary`. */
  readonly name: string;
  /** What the case checks, in a sentence. */
  readonly description: string;
  /** The case's time budget (jest timeout in the adapter): 45000 ms. */
  readonly timeoutMs: number;
  /** Runs the case; rejects with an error that says what differed (expected vs actual). */
  run(environment: PeekEnvironment, options?: ConformanceOptions): Promise<void>;
}

/**
 * The time budget of a peek case: past the 30 s deadline of its calls (three step timeouts by
 * default), so a call the proxy leaves hanging fails with its status, not with jest's timeout.
 */
const PEEK_CASE_TIMEOUT_MS = 45_000;

function callIdOf(call: EchoCallRecord): string | undefined {
  const value = call.metadata.get(CALL_ID_KEY)[0];
  return typeof value === 'string' ? value : undefined;
}

/** Builds a {@link PeekCase} whose body gets a fresh client of the proxy. */
export function definePeekCase(
  name: string,
  description: string,
  body: (context: PeekCaseContext) => Promise<void>,
): PeekCase {
  return {
    name,
    description,
    timeoutMs: PEEK_CASE_TIMEOUT_MS,
    run: ({ proxyAddress, backends, log }, options) =>
      withCaseContext(proxyAddress, backends.a, options, async (context) => {
        const recorded = (at: 'a' | 'b', ids: readonly string[]): EchoCallRecord[] =>
          backends[at].calls.filter((call) => ids.includes(callIdOf(call) ?? ''));
        try {
          await body({
            ...context,
            backends,
            log,
            settled: async (callId, description) => {
              const record = await log.waitFor(
                callId,
                description,
                context.stepTimeoutMs,
                (r: PeekRecord) => r.outcome !== undefined,
              );
              return record.outcome!;
            },
            backendCounts: (ids) => ({
              a: recorded('a', ids).length,
              b: recorded('b', ids).length,
            }),
            backendRecord: (at, callId) => {
              const [record] = recorded(at, [callId]);
              if (record === undefined) fail(`backend ${at} has no record of call ${callId}`);
              return record;
            },
          });
        } catch (error) {
          if (error instanceof Error) error.message = `${name}: ${error.message}`;
          throw error;
        }
      }),
  };
}
