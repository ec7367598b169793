import { randomUUID } from 'node:crypto';
import { InterceptingCall, Metadata, status as Status } from '@grpc/grpc-js';
import type { CallOptions, ClientOptions, Interceptor } from '@grpc/grpc-js';
import type { EchoCallRecord } from '../call-log';
import { createEchoClient } from '../echo-client';
import type { EchoServerHandle } from '../echo-server';
import type { EchoServiceClient } from '../gen/grpc_proxy/testing/v1/echo';
import { CALL_ID_KEY } from './types';
import type { ConformanceOptions } from './types';

/** Default of {@link ConformanceOptions.stepTimeoutMs}. */
const DEFAULT_STEP_TIMEOUT_MS = 10_000;

/** A tagged call: metadata carrying a fresh call id, and how to find it on the backend. */
export interface TaggedCall {
  readonly id: string;
  /** Request metadata with the call id (add more entries freely). */
  readonly metadata: Metadata;
  /**
   * Call options with a deadline of three step timeouts unless given one: long enough that a
   * missing event is reported as such rather than as DEADLINE_EXCEEDED, short enough that
   * nothing hangs.
   */
  readonly options: CallOptions;
  /** Waits until the backend's record of this call satisfies `predicate`. */
  backendRecord(
    description: string,
    predicate?: (call: EchoCallRecord) => boolean,
  ): Promise<EchoCallRecord>;
}

/** What every case needs: a client of the proxy, and tagged calls. */
export interface CaseContext {
  readonly client: EchoServiceClient;
  /** Where the proxy listens. */
  readonly proxyAddress: string;
  readonly backend: EchoServerHandle;
  readonly options: ConformanceOptions;
  /** How long to wait for any one event. */
  readonly stepTimeoutMs: number;
  tag(deadline?: Date | number): TaggedCall;
  /**
   * Another client, of the proxy or of the backend directly (with `backendClient`'s settings),
   * with `channelOptions` on top; closed when the case ends.
   */
  newClient(to: 'proxy' | 'backend', channelOptions?: ClientOptions): EchoServiceClient;
}

/** Runs `body` with a fresh client of the proxy, closed afterwards whatever happens. */
export async function withCaseContext(
  proxyAddress: string,
  backend: EchoServerHandle,
  options: ConformanceOptions | undefined,
  body: (context: CaseContext) => Promise<void>,
): Promise<void> {
  const open = new Set<InterceptingCall>();
  const clients: EchoServiceClient[] = [];
  const newClient = (to: 'proxy' | 'backend', extra?: ClientOptions): EchoServiceClient => {
    const settings = to === 'proxy' ? options?.client : options?.backendClient;
    const channelOptions = { ...settings?.channelOptions, ...extra };
    const client = createEchoClient(to === 'proxy' ? proxyAddress : backend.address, {
      ...settings,
      channelOptions: {
        ...channelOptions,
        interceptors: [...(channelOptions.interceptors ?? []), trackOpenCalls(open)],
      },
    });
    clients.push(client);
    return client;
  };
  const stepTimeoutMs = options?.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
  try {
    await body({
      client: newClient('proxy'),
      proxyAddress,
      backend,
      options: options ?? {},
      stepTimeoutMs,
      tag: (deadline) => tagCall(backend, stepTimeoutMs, deadline),
      newClient,
    });
  } finally {
    // A failed case may leave calls open; end them so the proxy can close promptly.
    for (const call of open) call.cancelWithStatus(Status.CANCELLED, 'the conformance case ended');
    for (const client of clients) client.close();
  }
}

/** Keeps every call of the client in `open` until its status arrives. */
function trackOpenCalls(open: Set<InterceptingCall>): Interceptor {
  return (options, nextCall) => {
    const call: InterceptingCall = new InterceptingCall(nextCall(options), {
      start: (metadata, listener, next) =>
        next(metadata, {
          onReceiveStatus: (status, nextStatus) => {
            open.delete(call);
            nextStatus(status);
          },
        }),
    });
    open.add(call);
    return call;
  };
}

/** The call id a backend record carries, if any. */
function callIdOf(call: EchoCallRecord): string | undefined {
  const value = call.metadata.get(CALL_ID_KEY)[0];
  return typeof value === 'string' ? value : undefined;
}

function tagCall(
  backend: EchoServerHandle,
  stepTimeoutMs: number,
  deadline?: Date | number,
): TaggedCall {
  const id = randomUUID();
  const metadata = new Metadata();
  metadata.set(CALL_ID_KEY, id);
  return {
    id,
    metadata,
    options: { deadline: deadline ?? Date.now() + 3 * stepTimeoutMs },
    backendRecord: (description, predicate = () => true) =>
      backend.waitForCall((call) => callIdOf(call) === id && predicate(call), {
        timeoutMs: stepTimeoutMs,
        description: `the backend to record ${description} (call id ${id})`,
      }),
  };
}
