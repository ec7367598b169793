import type { EchoServerHandle } from '../echo-server';
import { withCaseContext } from './context';
import type { CaseContext, TaggedCall } from './context';
import { MIRROR_TARGET_KEY } from './mirror-director';
import type { LoggedMirrorReport, MirrorLog, MirrorTarget } from './mirror-director';
import type { SilentHttp2Server } from './silent-http2-server';
import type { ConformanceOptions } from './types';

/** What the mirror cases expect of the proxy: the values it was started with. */
export interface MirrorExpectations {
  /** Milliseconds a copy may outlive its call (`mirrorTimeoutMs` given to the proxy). */
  readonly mirrorTimeoutMs: number;
  /** The header every copy carries, with value `1`. */
  readonly mirrorHeader: string;
  /** Bytes a copy may leave untaken before it is dropped. */
  readonly mirrorBufferBytes: number;
}

/** What a mirror case runs against: the proxy, its primary, its mirrors and their reports. */
export interface MirrorEnvironment {
  /** Where the proxy listens. */
  readonly proxyAddress: string;
  /** The echo backend every call is routed to. */
  readonly primary: EchoServerHandle;
  /** The mirrors the director copies to (`refused` has no server). */
  readonly mirrors: {
    readonly echo: EchoServerHandle;
    readonly strict: EchoServerHandle;
    readonly silent: SilentHttp2Server;
  };
  /** Every report the proxy's `onMirrorEnd` gave. */
  readonly log: MirrorLog;
  readonly expectations: MirrorExpectations;
}

/** What a mirror case's body gets: a {@link CaseContext} (the primary as its backend) and more. */
export interface MirrorCaseContext extends CaseContext {
  readonly mirrors: MirrorEnvironment['mirrors'];
  readonly expectations: MirrorExpectations;
  readonly log: MirrorLog;
  /** A tagged call the director copies to `target`. */
  tagFor(target: MirrorTarget): TaggedCall;
  /**
   * Waits for `count` reports given since the case started (or since `from`); fails after a
   * step timeout plus the mirror timeout.
   */
  reports(count: number, description: string, from?: number): Promise<LoggedMirrorReport[]>;
  /** Index of the case's first report in `log.reports`. */
  readonly firstReport: number;
}

/** One named check of a proxy that mirrors calls. */
export interface MirrorCase {
  /** A stable snake_case name, e.g. `mirror_copies_unary`. */
  readonly name: string;
  /** What the case checks, in a sentence. */
  readonly description: string;
  /** The case's time budget (jest timeout in the adapter): 45000 ms. */
  readonly timeoutMs: number;
  /** Runs the case; rejects with an error that says what differed (expected vs actual). */
  run(environment: MirrorEnvironment, options?: ConformanceOptions): Promise<void>;
}

/** Past the 30 s deadline of the case's calls, so a hanging call fails with its status. */
const MIRROR_CASE_TIMEOUT_MS = 45_000;

/** Builds a {@link MirrorCase} whose body gets a fresh client of the proxy. */
export function defineMirrorCase(
  name: string,
  description: string,
  body: (context: MirrorCaseContext) => Promise<void>,
): MirrorCase {
  return {
    name,
    description,
    timeoutMs: MIRROR_CASE_TIMEOUT_MS,
    run: ({ proxyAddress, primary, mirrors, log, expectations }, options) =>
      withCaseContext(proxyAddress, primary, options, async (context) => {
        const firstReport = log.reports.length;
        try {
          await body({
            ...context,
            mirrors,
            expectations,
            log,
            firstReport,
            tagFor: (target) => {
              const call = context.tag();
              call.metadata.set(MIRROR_TARGET_KEY, target);
              return call;
            },
            reports: (count, what, from = firstReport) =>
              log.waitFor(from, count, what, context.stepTimeoutMs + expectations.mirrorTimeoutMs),
          });
        } catch (error) {
          if (error instanceof Error) error.message = `${name}: ${error.message}`;
          throw error;
        }
      }),
  };
}
