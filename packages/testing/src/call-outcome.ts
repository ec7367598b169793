/**
 * The call-outcome plumbing under the kit's call helpers (`client-calls.ts`): what a client saw
 * of a call, recorded from grpc-js call events of every kind.
 */
import { Metadata } from '@grpc/grpc-js';
import type {
  CallOptions,
  ClientDuplexStream,
  ClientReadableStream,
  ClientWritableStream,
  StatusObject,
} from '@grpc/grpc-js';
import type { EchoRequest, EchoResponse } from './gen/grpc_proxy/testing/v1/echo';

/**
 * What a client saw of one finished call, in arrival order. `Response` is the message type:
 * `EchoResponse` (the default) for the echo helpers, `Buffer` for the raw-bytes ones.
 */
export interface CallOutcome<Response = EchoResponse> {
  /** The response headers, when the client received them as a separate headers frame. */
  headers: Metadata | undefined;
  /** Every response message received. */
  responses: Response[];
  /** The final status; its `metadata` holds the trailers. */
  status: StatusObject;
  /** The order events arrived in, e.g. `['headers', 'response', 'status']`. */
  events: Array<'headers' | 'response' | 'status'>;
}

/** Per-call settings of the kit's call helpers. */
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

type PartialOutcome<Response> = Omit<CallOutcome<Response>, 'status'>;

/** Records headers and status of `call` into `outcome`; resolves on the status. */
function track<Response>(
  call: ClientCallEvents,
  outcome: PartialOutcome<Response>,
): Promise<CallOutcome<Response>> {
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

function emptyOutcome<Response>(): PartialOutcome<Response> {
  return { headers: undefined, responses: [], events: [] };
}

/** Records a response in `outcome`. */
function collect<Response>(outcome: PartialOutcome<Response>): (response: Response) => void {
  return (response) => {
    outcome.responses.push(response);
    outcome.events.push('response');
  };
}

/**
 * Starts a call with one response (unary or client-streaming) through `start`, which gets the
 * settings' metadata and options and the callback to pass to grpc-js; `done` resolves with the
 * outcome (the status carries any error).
 */
export function unaryOutcome<Response, Call extends ClientCallEvents = ClientCallEvents>(
  settings: CallSettings,
  start: (
    metadata: Metadata,
    options: CallOptions,
    callback: (error: unknown, response?: Response) => void,
  ) => Call,
): { call: Call; done: Promise<CallOutcome<Response>> } {
  const outcome = emptyOutcome<Response>();
  const add = collect(outcome);
  const call = start(settings.metadata ?? new Metadata(), settings.options ?? {}, (_, response) => {
    if (response !== undefined) add(response);
  });
  return { call, done: track(call, outcome) };
}

/** Collects a call with a stream of responses (server-streaming) until its status. */
export function streamOutcome<Response>(
  call: ClientReadableStream<Response>,
): Promise<CallOutcome<Response>> {
  const outcome = emptyOutcome<Response>();
  call.on('data', collect(outcome));
  call.on('error', () => undefined); // the status carries the error
  return track(call, outcome);
}

/** Writes every request at once and half-closes `call`; returns `done`. */
export function writeAll<Request, Done>(
  call: ClientWritableStream<Request> | ClientDuplexStream<Request, unknown>,
  requests: readonly Request[],
  done: Done,
): Done {
  for (const request of requests) call.write(request);
  call.end();
  return done;
}

/**
 * A bidi call driven step by step: await each response as it comes. `Request` and `Response`
 * are the message types: the echo service's by default, `Buffer` for `openRawBidi`.
 */
export interface BidiSession<Request = EchoRequest, Response = EchoResponse> {
  /** The grpc-js call: write, end, cancel. */
  readonly call: ClientDuplexStream<Request, Response>;
  /** Resolves with the next response not yet taken; rejects if the call ends first. */
  nextResponse(): Promise<Response>;
  /** Resolves when response headers arrive; rejects if the call ends first. */
  headers(): Promise<Metadata>;
  /** Whether response headers have arrived. */
  headersReceived(): boolean;
  /** Resolves when the call ends. */
  readonly outcome: Promise<CallOutcome<Response>>;
}

/** Wraps a grpc-js bidi call into a {@link BidiSession}. */
export function bidiSession<Request, Response>(
  call: ClientDuplexStream<Request, Response>,
): BidiSession<Request, Response> {
  const collected = emptyOutcome<Response>();
  const add = collect(collected);
  let taken = 0;
  let ended: StatusObject | undefined;
  const waiters = new Set<() => void>();
  const wake = (): void => waiters.forEach((waiter) => waiter());
  call.on('data', (response: Response) => {
    add(response);
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
