/**
 * The director the fan-out cases run, and the log of the call reports the proxy gives. Typed
 * structurally, so the kit depends on no engine (`@grpc-proxy/handler` depends on the kit's
 * tests; the other way round would be a cycle).
 */
import { EventEmitter, once } from 'node:events';
import type { Metadata } from '@grpc/grpc-js';
import { EchoResponse } from '../gen/grpc_proxy/testing/v1/echo';
import { within } from './check';

/** Request metadata key carrying the call's {@link FanOutPlan} as JSON. */
export const FAN_OUT_PLAN_KEY = 'x-conformance-fan-out';

/** The name of every fan-out the director routes to (`CallReport.backend`). */
export const FAN_OUT_NAME = 'conformance-fan-out';

/**
 * The backends a plan may name: `a`, `b`, `c`, echo servers; `fail`, a server that ends every call
 * `NOT_FOUND` with a trailer (see {@link FAILING_STATUS}); `refused`, an address that refuses
 * connections.
 */
export type FanOutMemberName = 'a' | 'b' | 'c' | 'fail' | 'refused';

/**
 * What the director does with one call: the members in order, the `responses` mode, `onError`
 * (`'message'`: a function turning a failure into a {@link failureMessage}; `'null'`: a function
 * returning `null`; default `'first-error'`) and `merge` (`'names'`: {@link mergeNames}; default:
 * none, the engine's concatenation).
 */
export interface FanOutPlan {
  readonly backends: readonly FanOutMemberName[];
  readonly responses: 'stream' | 'merge';
  readonly onError?: 'first-error' | 'skip' | 'message' | 'null';
  readonly merge?: 'names';
}

/** What the director reads of a call: the part of `ProxyCall` it needs. */
export interface FanOutCall {
  /** The request metadata ({@link FAN_OUT_PLAN_KEY} holds the plan). */
  readonly metadata: Metadata;
}

/** A failed backend as `onError` sees it: the shape of `FanOutFailure` (`@grpc-proxy/handler`). */
export interface FanOutFailureShape {
  readonly backend: string;
  readonly index: number;
  readonly code: number;
  readonly details: string;
  readonly metadata: Metadata;
}

/** The fan-out of a route: the shape of `FanOut` (`@grpc-proxy/handler`). */
export interface FanOutShape<Backend> {
  readonly backends: readonly Backend[];
  readonly responses: 'stream' | 'merge';
  readonly onError?: 'first-error' | 'skip' | ((failure: FanOutFailureShape) => Buffer | null);
  readonly merge?: (responses: readonly Buffer[]) => Buffer;
}

/** The route the fan-out director returns: the shape of a `Route` to a `FanOutBackend`. */
export interface FanOutRoute<Backend> {
  readonly backend: { readonly name: string; readonly fanOut: FanOutShape<Backend> };
}

/** A director returning {@link FanOutRoute}s; assignable to `StreamDirector`. */
export type FanningDirector<Backend> = (call: FanOutCall) => FanOutRoute<Backend>;

/** The status, message and trailer of the `fail` backend. */
export const FAILING_STATUS = {
  code: 5, // NOT_FOUND
  details: 'fan-out conformance: this backend always fails',
  trailerKey: 'x-fan-out-failed',
  trailerValue: 'by design',
} as const;

/** Request metadata carrying `plan` for the director. */
export function planEntry(plan: FanOutPlan): [string, string] {
  return [FAN_OUT_PLAN_KEY, JSON.stringify(plan)];
}

/**
 * The message `onError: 'message'` sends in a failed backend's place: an `EchoResponse` named
 * `failed:<index>`, with one `requestMetadata` entry `fan-out-failure` saying
 * `<code> <details> <trailer value>` (what the proxy gave the function).
 */
export function failureMessage(failure: FanOutFailureShape): Buffer {
  const trailer = failure.metadata.get(FAILING_STATUS.trailerKey)[0];
  const said = `${failure.code} ${failure.details} ${String(trailer)}`;
  const entry = { key: 'fan-out-failure', value: said, binaryValue: Buffer.alloc(0) };
  const response = EchoResponse.fromPartial({
    serverName: `failed:${failure.index}`,
    requestMetadata: [entry],
  });
  return Buffer.from(EchoResponse.encode(response).finish());
}

/** The custom merge (`merge: 'names'`): one `EchoResponse`, server names joined by `+`, payloads concatenated. */
export function mergeNames(responses: readonly Buffer[]): Buffer {
  const decoded = responses.map((bytes) => EchoResponse.decode(bytes));
  const merged = EchoResponse.fromPartial({
    serverName: decoded.map((response) => response.serverName).join('+'),
    payload: Buffer.concat(decoded.map((response) => response.payload)),
  });
  return Buffer.from(EchoResponse.encode(merged).finish());
}

/** The fan-out cases' director: fans each call out as its {@link FAN_OUT_PLAN_KEY} says. */
export function fanOutDirector<Backend>(
  members: Readonly<Record<FanOutMemberName, Backend>>,
): FanningDirector<Backend> {
  return (call) => {
    const raw = call.metadata.get(FAN_OUT_PLAN_KEY)[0];
    const plan = JSON.parse(typeof raw === 'string' ? raw : '{}') as FanOutPlan;
    const onError =
      plan.onError === 'message'
        ? failureMessage
        : plan.onError === 'null'
          ? () => null
          : plan.onError;
    const fanOut: FanOutShape<Backend> = {
      backends: plan.backends.map((name) => members[name]),
      responses: plan.responses,
      ...(onError === undefined ? {} : { onError }),
      ...(plan.merge === 'names' ? { merge: mergeNames } : {}),
    };
    return { backend: { name: FAN_OUT_NAME, fanOut } };
  };
}

/** How one backend of a fan-out ended: the shape of `FanOutOutcome` (`@grpc-proxy/handler`). */
export interface FanOutOutcomeShape {
  readonly backend: string;
  readonly code: number;
  readonly details: string;
  readonly proxyError: boolean;
  readonly messages: number;
}

/** What the cases read of a call's report: the shape of part of `CallReport`. */
export interface FanOutCallReportShape {
  readonly method: string;
  readonly backend?: string;
  readonly code: number;
  readonly details: string;
  readonly messagesFromClient: number;
  readonly messagesToClient: number;
  readonly fanOut?: readonly FanOutOutcomeShape[];
}

/** Every call report the proxy gave, and waits on them. */
export class FanOutReportLog {
  readonly reports: FanOutCallReportShape[] = [];
  private readonly added = new EventEmitter();

  /** The `onCallEnd` hook to give the proxy (bound; pass it as it is). */
  readonly onCallEnd = (report: FanOutCallReportShape): void => {
    this.reports.push(report);
    this.added.emit('report');
  };

  /** The reports from index `from` on, once there are `count`; fails after `timeoutMs`. */
  async after(from: number, count: number, timeoutMs: number): Promise<FanOutCallReportShape[]> {
    const arrived = async (): Promise<FanOutCallReportShape[]> => {
      // Bounded by `within` below; each turn waits for one more report.
      while (this.reports.length - from < count) await once(this.added, 'report');
      return this.reports.slice(from);
    };
    return within(`${count} call report(s) from the proxy's observer`, timeoutMs, arrived());
  }
}
