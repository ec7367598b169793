import {
  Metadata,
  type CallOptions,
  type Client,
  type ServiceError,
  type StatusObject,
} from '@grpc/grpc-js';
import { probeService } from './probe-service';

const identity = (value: Buffer): Buffer => value;

/** The end of a call as the client saw it: the response (if any) or the error's status. */
export interface UnaryOutcome {
  response?: Buffer;
  code: number;
  details: string;
  /** Trailers (or the error's metadata). */
  trailers: Metadata;
}

/** Calls a raw-bytes unary method and resolves with its outcome (never rejects). */
export function callUnary(
  client: Client,
  path: string,
  request: Buffer,
  options: { metadata?: Metadata; deadlineMs?: number } = {},
): Promise<UnaryOutcome> {
  const callOptions: CallOptions = {};
  if (options.deadlineMs !== undefined) callOptions.deadline = Date.now() + options.deadlineMs;
  return new Promise((resolve) => {
    let response: Buffer | undefined;
    let settled: StatusObject | undefined;
    let error: ServiceError | null | undefined;
    const finish = (): void => {
      if (settled === undefined || error === undefined) return;
      resolve(
        error
          ? { code: error.code, details: error.details, trailers: error.metadata ?? new Metadata() }
          : { response, code: settled.code, details: settled.details, trailers: settled.metadata },
      );
    };
    const call = client.makeUnaryRequest(
      path,
      identity,
      identity,
      request,
      options.metadata ?? new Metadata(),
      callOptions,
      (callError, value) => {
        error = callError;
        response = value;
        finish();
      },
    );
    call.on('status', (status: StatusObject) => {
      settled = status;
      finish();
    });
  });
}

/** Calls the probe's `Unary` method with `payload` and resolves with its outcome. */
export function echoUnary(client: Client, payload: Buffer, metadata?: Metadata) {
  return callUnary(client, probeService.Unary.path, payload, { metadata });
}

/** What a streaming call delivered before it ended. */
export interface StreamOutcome {
  messages: Buffer[];
  code: number;
  details: string;
}

/**
 * Opens a bidi call on the probe's `Bidi` method, sends `messages` one after another (each after
 * the previous echo arrived), half-closes and resolves with every echo and the final status.
 */
export function echoBidi(client: Client, messages: readonly Buffer[]): Promise<StreamOutcome> {
  return new Promise((resolve) => {
    const call = client.makeBidiStreamRequest(probeService.Bidi.path, identity, identity);
    const received: Buffer[] = [];
    const sendNext = (): void => {
      if (received.length < messages.length) call.write(messages[received.length]);
      else call.end();
    };
    call.on('data', (message: Buffer) => {
      received.push(message);
      sendNext();
    });
    call.on('error', () => undefined);
    call.on('status', (status: StatusObject) =>
      resolve({ messages: received, code: status.code, details: status.details }),
    );
    sendNext();
  });
}

/**
 * A healthy bidi call kept open beside a hostile one: `ping` sends one message and resolves with
 * its echo; `finish` half-closes and resolves with the final status. Proves that whatever
 * happened in between did not disturb other calls.
 */
export class HealthyStream {
  private readonly call;
  private readonly pending: { resolve(message: Buffer): void; reject(error: Error): void }[] = [];
  private readonly status: Promise<StatusObject>;

  constructor(client: Client) {
    this.call = client.makeBidiStreamRequest(probeService.Bidi.path, identity, identity);
    this.call.on('data', (message: Buffer) => this.pending.shift()?.resolve(message));
    this.call.on('error', () => undefined);
    this.status = new Promise((resolve) => {
      this.call.on('status', (status: StatusObject) => {
        for (const waiter of this.pending.splice(0)) {
          waiter.reject(new Error(`healthy stream ended: ${status.code} ${status.details}`));
        }
        resolve(status);
      });
    });
  }

  /** Sends `payload`, resolves with the echo; rejects if the call ends first. */
  ping(payload: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.call.write(payload);
    });
  }

  /** Half-closes and resolves with the call's status. */
  finish(): Promise<StatusObject> {
    this.call.end();
    return this.status;
  }

  /** Cancels the call (for cleanup after a failed assertion). */
  cancel(): void {
    this.call.cancel();
  }
}
