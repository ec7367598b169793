import { once } from 'node:events';
import { status as Status } from '@grpc/grpc-js';
import type {
  sendUnaryData,
  ServerDuplexStream,
  ServerReadableStream,
  ServerUnaryCall,
  ServerWritableStream,
  StatusObject,
} from '@grpc/grpc-js';
import type { EchoCallLog } from './call-log';
import { EchoCallRun } from './echo-call-run';
import type {
  EchoRequest,
  EchoResponse,
  EchoServiceServer,
} from './gen/grpc_proxy/testing/v1/echo';

/** A server stream the echo service writes responses to and ends with a status. */
type ResponseStream = ServerWritableStream<EchoRequest, EchoResponse>;

/**
 * The echo service implementation: every call is recorded in `log`, and every response names
 * `serverName`. The knobs are documented in `echo.proto`.
 */
export function echoServiceImplementation(serverName: string, log: EchoCallLog): EchoServiceServer {
  const begin = (call: ConstructorParameters<typeof EchoCallRun>[0]): EchoCallRun =>
    new EchoCallRun(call, log, serverName);
  return {
    echo: (call, callback) => unary(begin(call), call, callback),
    clientStream: (call, callback) => clientStream(begin(call), call, callback),
    serverStream: (call) => serverStream(begin(call), call),
    bidi: (call) => bidi(begin(call), call),
  };
}

function unary(
  run: EchoCallRun,
  call: ServerUnaryCall<EchoRequest, EchoResponse>,
  callback: sendUnaryData<EchoResponse>,
): void {
  run.receive(call.request);
  run.halfClose();
  run.sendHeadersAt('start');
  answerOnce(run, call.request.payload, callback);
}

function clientStream(
  run: EchoCallRun,
  call: ServerReadableStream<EchoRequest, EchoResponse>,
  callback: sendUnaryData<EchoResponse>,
): void {
  call.on('data', (request: EchoRequest) => {
    if (run.ended) return;
    run.receive(request, true);
    if (run.requestCount > 1) return;
    run.sendHeadersAt('start');
    // A configured status ends the call without waiting for the client's half-close.
    if (run.settings.statusCode !== undefined) answerOnce(run, concatPayloads(run), callback);
  });
  call.on('end', () => {
    void run.requestStreamEnded().then((halfClosed) => {
      if (halfClosed && run.settings.statusCode === undefined) {
        answerOnce(run, concatPayloads(run), callback);
      }
    });
  });
}

/**
 * Ends a unary or client-streaming call: one response with OK, or the configured status; with
 * `hold_until_cancelled`, nothing, once the call is cancelled or out of time.
 */
function answerOnce(
  run: EchoCallRun,
  payload: Buffer,
  callback: sendUnaryData<EchoResponse>,
): void {
  const send = async (): Promise<void> => {
    await run.pause();
    await run.holdIfAsked();
    const status = run.finalStatus();
    if (status.code !== Status.OK) {
      run.finish(status);
      callback(status);
      return;
    }
    const response = run.nextResponse(payload);
    run.respond(response);
    run.finish(status);
    callback(null, response, status.metadata);
  };
  send().catch((error: unknown) => run.failed(error, (status) => callback(status)));
}

function serverStream(run: EchoCallRun, call: ResponseStream): void {
  run.receive(call.request);
  run.halfClose();
  const send = async (): Promise<void> => {
    run.sendHeadersAt('start');
    for (let i = 0; i < run.settings.responseCount && !run.statusDue; i++) {
      await run.pause();
      await write(run, call, run.nextResponse(call.request.payload));
    }
    await endStream(run, call);
  };
  send().catch((error: unknown) => run.failed(error, (status) => endWith(call, status)));
}

/**
 * Bidi: one response per request, in order. Requests are handled one at a time, with the
 * stream paused meanwhile, so a slow server slows the client down (flow control) as a real
 * service would.
 */
function bidi(run: EchoCallRun, call: ServerDuplexStream<EchoRequest, EchoResponse>): void {
  let held: EchoRequest | undefined;
  let chain = Promise.resolve();
  const enqueue = (step: () => Promise<void>): void => {
    chain = chain
      .then(step)
      .catch((error: unknown) => run.failed(error, (status) => endWith(call, status)));
  };
  const answer = async (request: EchoRequest): Promise<void> => {
    if (run.ended) return;
    if (run.statusDue) return endStream(run, call);
    await run.pause();
    await write(run, call, run.nextResponse(request.payload));
    if (run.statusDue) await endStream(run, call);
  };
  call.on('data', (request: EchoRequest) => {
    if (run.ended) return;
    run.receive(request);
    call.pause();
    enqueue(async () => {
      if (run.requestCount === 1) {
        run.sendHeadersAt('start');
        if (run.statusDue) return endStream(run, call);
        if (run.waitsAfterHeaders) {
          // Answer this request only once the client sends another message or half-closes.
          held = request;
          return;
        }
      }
      if (held !== undefined) await answer(held);
      held = undefined;
      await answer(request);
    });
    enqueue(async () => {
      if (!run.ended) call.resume();
    });
  });
  call.on('end', () => {
    // Decided at once, not when the queue gets there, so the log shows it without delay.
    const halfClosed = run.requestStreamEnded();
    enqueue(async () => {
      if (!(await halfClosed)) return;
      if (held !== undefined) await answer(held);
      held = undefined;
      if (!run.ended) await endStream(run, call);
    });
  });
}

/** Writes a response, honouring backpressure, and records it. */
async function write(
  run: EchoCallRun,
  call: ResponseStream | ServerDuplexStream<EchoRequest, EchoResponse>,
  response: EchoResponse,
): Promise<void> {
  run.respond(response);
  if (!call.write(response)) await once(call, 'drain', { signal: run.signal });
}

/**
 * Ends a streaming call with its final status (after `delay_ms` when a status is configured),
 * unless `hold_until_cancelled` asks to wait for the cancellation instead.
 */
async function endStream(
  run: EchoCallRun,
  call: ResponseStream | ServerDuplexStream<EchoRequest, EchoResponse>,
): Promise<void> {
  await run.holdIfAsked();
  if (run.settings.statusCode !== undefined) await run.pause();
  const status = run.finalStatus();
  run.finish(status);
  endWith(call, status);
}

function endWith(
  call: ResponseStream | ServerDuplexStream<EchoRequest, EchoResponse>,
  status: StatusObject,
): void {
  if (status.code === Status.OK) {
    call.end(status.metadata);
  } else {
    // grpc-js turns an 'error' event with a numeric code into the call's status.
    call.emit('error', status);
  }
}

function concatPayloads(run: EchoCallRun): Buffer {
  return Buffer.concat(run.payloads);
}
