import { status as Status } from '@grpc/grpc-js';
import type { EchoCallRecord } from '../call-log';
import type { EchoServerHandle } from '../echo-server';
import { expectEqual, fail, show } from './check';
import { withCaseContext } from './context';
import type { CaseContext, TaggedCall } from './context';
import { FAN_OUT_NAME, planEntry } from './fan-out-director';
import type {
  FanOutCallReportShape,
  FanOutOutcomeShape,
  FanOutPlan,
  FanOutReportLog,
} from './fan-out-director';
import type { FailingServer } from './fan-out-failing-server';
import { CALL_ID_KEY } from './types';
import type { ConformanceOptions } from './types';

/** What the fan-out cases expect of the proxy. */
export interface FanOutExpectations {
  /** Whether the proxy gives its observer's call reports (with `fanOut`) to the log. */
  readonly reports: boolean;
  /** The status message of a backend call the proxy cancelled because the call ended. */
  readonly cancelledDetails: string;
}

/** The echo servers a plan names `a`, `b` and `c`. */
export type FanOutEchoes = Readonly<Record<'a' | 'b' | 'c', EchoServerHandle>>;

/** What a fan-out case runs against: the proxy, its backends and its call reports. */
export interface FanOutEnvironment {
  /** Where the proxy listens. */
  readonly proxyAddress: string;
  readonly echoes: FanOutEchoes;
  /** The backend a plan names `fail`. */
  readonly failing: FailingServer;
  /** Every call report the proxy's `onCallEnd` gave. */
  readonly log: FanOutReportLog;
  readonly expectations: FanOutExpectations;
}

/** What a fan-out case's body gets: a {@link CaseContext} (echo `a` as its backend) and more. */
export interface FanOutCaseContext extends CaseContext {
  readonly echoes: FanOutEchoes;
  readonly failing: FailingServer;
  readonly expectations: FanOutExpectations;
  /** A tagged call the director fans out by `plan`. */
  planned(plan: FanOutPlan): TaggedCall;
  /** Waits until echo server `server` recorded `call` and `predicate` holds for the record. */
  recordOn(
    server: keyof FanOutEchoes,
    call: TaggedCall,
    description: string,
    predicate?: (record: EchoCallRecord) => boolean,
  ): Promise<EchoCallRecord>;
  /**
   * Waits for the case's call reports, one per entry of `expected` in the order the calls ended,
   * and checks they are the only ones, name the fan-out as their backend, and match `expected`.
   * Does nothing when the proxy gives no reports (see {@link FanOutExpectations}).
   */
  expectReports(expected: readonly ExpectedReport[]): Promise<void>;
}

/** One named check of a proxy that fans calls out. */
export interface FanOutCase {
  /** A stable snake_case name, e.g. `fan_out_first_error`. */
  readonly name: string;
  /** What the case checks, in a sentence. */
  readonly description: string;
  /** The case's time budget (jest timeout in the adapter): 45000 ms. */
  readonly timeoutMs: number;
  /** Runs the case; rejects with an error that says what differed (expected vs actual). */
  run(environment: FanOutEnvironment, options?: ConformanceOptions): Promise<void>;
}

/** Past the 30 s deadline of the case's calls, so a hanging call fails with its status. */
const FAN_OUT_CASE_TIMEOUT_MS = 45_000;

/** Builds a {@link FanOutCase} whose body gets a fresh client of the proxy. */
export function defineFanOutCase(
  name: string,
  description: string,
  body: (context: FanOutCaseContext) => Promise<void>,
): FanOutCase {
  return {
    name,
    description,
    timeoutMs: FAN_OUT_CASE_TIMEOUT_MS,
    run: ({ proxyAddress, echoes, failing, log, expectations }, options) =>
      withCaseContext(proxyAddress, echoes.a, options, async (context) => {
        const firstReport = log.reports.length;
        try {
          await body({
            ...context,
            echoes,
            failing,
            expectations,
            planned: (plan) => {
              const call = context.tag();
              call.metadata.set(...planEntry(plan));
              return call;
            },
            recordOn: (server, call, description, predicate = () => true) =>
              echoes[server].waitForCall(
                (record) => record.metadata.get(CALL_ID_KEY)[0] === call.id && predicate(record),
                {
                  timeoutMs: context.stepTimeoutMs,
                  description: `echo ${server} to record ${description} (call id ${call.id})`,
                },
              ),
            expectReports: async (expected) => {
              if (!expectations.reports) return;
              const count = expected.length;
              const reports = await log.after(firstReport, count, context.stepTimeoutMs);
              expectEqual('call reports of the case', reports.length, count);
              reports.forEach((report, index) => expectReport(report, expected[index]));
            },
          });
        } catch (error) {
          if (error instanceof Error) error.message = `${name}: ${error.message}`;
          throw error;
        }
      }),
  };
}

/** What {@link FanOutCaseContext.expectReports} checks of one call report; all but `outcomes` only when given. */
export interface ExpectedReport {
  readonly method?: string;
  readonly code?: number;
  readonly details?: string;
  /** `[messagesFromClient, messagesToClient]`. */
  readonly counts?: readonly [number, number];
  /** `CallReport.fanOut`, one per backend in order. */
  readonly outcomes: readonly ExpectedOutcome[];
}

/** `count` outcomes `OK` with `messages` messages each. */
export function okOutcomes(count: number, messages: number): ExpectedOutcome[] {
  return Array.from({ length: count }, () => ({ code: Status.OK, proxyError: false, messages }));
}

function expectReport(report: FanOutCallReportShape, expected: ExpectedReport): void {
  expectEqual('CallReport.backend', report.backend, FAN_OUT_NAME);
  const { outcomes, counts, ...status } = expected;
  const got: Record<string, unknown> = Object.fromEntries(
    Object.keys(status).map((key) => [key, report[key as keyof FanOutCallReportShape]]),
  );
  expectEqual<Record<string, unknown>>('call report', got, { ...status });
  if (counts !== undefined) {
    const said = [report.messagesFromClient, report.messagesToClient];
    expectEqual('call report [messagesFromClient, messagesToClient]', said, [...counts]);
  }
  expectOutcomes(report, outcomes);
}

/** What {@link expectOutcomes} checks of one backend's outcome (`messages` only when given). */
export type ExpectedOutcome = Pick<FanOutOutcomeShape, 'code' | 'proxyError'> &
  Partial<Pick<FanOutOutcomeShape, 'messages' | 'details'>>;

/** Checks `report.fanOut` has one outcome per backend, in order, as `expected` says. */
export function expectOutcomes(
  report: FanOutCallReportShape,
  expected: readonly ExpectedOutcome[],
): void {
  const outcomes = report.fanOut;
  if (!Array.isArray(outcomes)) fail(`CallReport.fanOut: expected a list, got ${show(outcomes)}`);
  expectEqual('CallReport.fanOut length', outcomes.length, expected.length);
  expected.forEach((want, index) => {
    const got = outcomes[index];
    if (typeof got.backend !== 'string' || got.backend === '') {
      fail(`CallReport.fanOut[${index}].backend: expected a name, got ${show(got.backend)}`);
    }
    const picked = Object.fromEntries(Object.keys(want).map((key) => [key, got[key as never]]));
    expectEqual(`CallReport.fanOut[${index}] (${got.backend})`, picked, { ...want });
  });
}
