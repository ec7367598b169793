import { Metadata } from '@grpc/grpc-js';
import type { CallOptions, ClientDuplexStream, StatusObject } from '@grpc/grpc-js';
import type {
  EchoRequest,
  EchoResponse,
  EchoServiceClient,
} from './gen/grpc_proxy/testing/v1/echo';
import { EchoRequest as EchoRequestMessage } from './gen/grpc_proxy/testing/v1/echo';

/** What a client saw of one finished call, in arrival order. */
export interface CallOutcome {
  /** The response headers, when the client received them as a separate headers frame. */
  headers: Metadata | undefined;
  /** Every response message received. */
  responses: EchoResponse[];
  /** The final status; its `metadata` holds the trailers. */
  status: StatusObject;
  /** The order events arrived in, e.g. `['headers', 'response', 'status']`. */
  events: Array<'headers' | 'response' | 'status'>;
}

/** Per-call settings of the helpers below. */
export interface CallSettings {
  /** Request metadata. Default: empty. */
  metadata?: Metadata;
  /** grpc-js call options (deadline, ...). Default: none. */
  options?: CallOptions;
}

/** Something grpc-js call objects of every kind emit. */
interface ClientCallEvents {
  on(event: 'metadata', listener: (metadata: Metadata) => void): unknown;
  on(event: 'status', listener: (status: StatusObject) => void): unknown;
}

/** Records headers and status of `call` into `outcome`; resolves on the status. */
function track(call: ClientCallEvents, outcome: Omit<CallOutcome, 'status'>): Promise<CallOutcome> {
  call.on('metadata', (headers) => {
    outcome.headers = headers;
    outcome.events.push('headers');
  });
  return new Promise((resolve) => {
    call.on('status', (status) => {
      outcome.events.push('status');
      resolve({ ...outcome, status });
    });
  });
}

function emptyOutcome(): Omit<CallOutcome, 'status'> {
  return { headers: undefined, responses: [], events: [] };
}

/** Builds a request from the knobs given (see `echo.proto`); the rest take their defaults. */
export function echoRequest(knobs: Partial<EchoRequest> = {}): EchoRequest {
  return EchoRequestMessage.fromPartial(knobs);
}

/** Runs a unary `Echo` call to completion. Never rejects: errors are in `status`. */
export function callEcho(
  client: EchoServiceClient,
  request: EchoRequest,
  settings: CallSettings = {},
): Promise<CallOutcome> {
  const outcome = emptyOutcome();
  const call = client.echo(
    request,
    settings.metadata ?? new Metadata(),
    settings.options ?? {},
    (_error, response) => {
      if (response !== undefined) {
        outcome.responses.push(response);
        outcome.events.push('response');
      }
    },
  );
  return track(call, outcome);
}

/** Runs a `ServerStream` call to completion. Never rejects: errors are in `status`. */
export function callServerStream(
  client: EchoServiceClient,
  request: EchoRequest,
  settings: CallSettings = {},
): Promise<CallOutcome> {
  const outcome = emptyOutcome();
  const call = client.serverStream(request, settings.metadata ?? new Metadata(), settings.options);
  call.on('data', (response: EchoResponse) => {
    outcome.responses.push(response);
    outcome.events.push('response');
  });
  call.on('error', () => undefined); // the status carries the error
  return track(call, outcome);
}

/** Runs a `ClientStream` call: writes `requests`, half-closes, awaits the end. */
export function callClientStream(
  client: EchoServiceClient,
  requests: readonly EchoRequest[],
  settings: CallSettings = {},
): Promise<CallOutcome> {
  const outcome = emptyOutcome();
  const call = client.clientStream(
    settings.metadata ?? new Metadata(),
    settings.options ?? {},
    (_error, response) => {
      if (response !== undefined) {
        outcome.responses.push(response);
        outcome.events.push('response');
      }
    },
  );
  const done = track(call, outcome);
  for (const request of requests) call.write(request);
  call.end();
  return done;
}

/** Runs a `Bidi` call: writes every request at once, half-closes, collects the responses. */
export function callBidi(
  client: EchoServiceClient,
  requests: readonly EchoRequest[],
  settings: CallSettings = {},
): Promise<CallOutcome> {
  const session = openBidi(client, settings);
  for (const request of requests) session.call.write(request);
  session.call.end();
  return session.outcome;
}

/** A bidi call driven step by step: await each response as it comes. */
export interface BidiSession {
  /** The grpc-js call: write, end, cancel. */
  readonly call: ClientDuplexStream<EchoRequest, EchoResponse>;
  /** Resolves with the next response not yet taken; rejects if the call ends first. */
  nextResponse(): Promise<EchoResponse>;
  /** Resolves when response headers arrive; rejects if the call ends first. */
  headers(): Promise<Metadata>;
  /** Whether response headers have arrived. */
  headersReceived(): boolean;
  /** Resolves when the call ends. */
  readonly outcome: Promise<CallOutcome>;
}

/** Opens a bidi call for step-by-step tests (lockstep ping-pong, cancellation, ...). */
export function openBidi(client: EchoServiceClient, settings: CallSettings = {}): BidiSession {
  const collected = emptyOutcome();
  const call = client.bidi(settings.metadata ?? new Metadata(), settings.options);
  let taken = 0;
  let ended: StatusObject | undefined;
  const waiters = new Set<() => void>();
  const wake = (): void => waiters.forEach((waiter) => waiter());
  call.on('data', (response: EchoResponse) => {
    collected.responses.push(response);
    collected.events.push('response');
    wake();
  });
  call.on('error', () => undefined); // the status carries the error
  const tracked = track(call, collected);
  call.on('metadata', () => wake()); // after track() has stored the headers
  const outcome = tracked.then((result) => {
    ended = result.status;
    wake();
    return result;
  });
  /** Resolves with `take()` once it returns a value; rejects if the call ends first. */
  const when = <T>(take: () => T | undefined, what: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const value = take();
        if (value !== undefined) {
          waiters.delete(check);
          resolve(value);
        } else if (ended !== undefined) {
          waiters.delete(check);
          reject(
            new Error(
              `the call ended (status ${ended.code} "${ended.details}") before ${what} arrived`,
            ),
          );
        }
      };
      waiters.add(check);
      check();
    });
  return {
    call,
    outcome,
    nextResponse: () =>
      when(
        () => (taken < collected.responses.length ? collected.responses[taken++] : undefined),
        'the next response',
      ),
    headers: () => when(() => collected.headers, 'response headers'),
    headersReceived: () => collected.headers !== undefined,
  };
}
