import { Metadata } from '@grpc/grpc-js';
import type { Client, ClientWritableStream } from '@grpc/grpc-js';
import {
  bidiSession,
  streamOutcome,
  unaryOutcome,
  writeAll,
  type BidiSession,
  type CallOutcome,
  type CallSettings,
} from './call-outcome';
import type {
  EchoRequest,
  EchoResponse,
  EchoServiceClient,
} from './gen/grpc_proxy/testing/v1/echo';
import { EchoRequest as EchoRequestMessage } from './gen/grpc_proxy/testing/v1/echo';

export type { BidiSession, CallOutcome, CallSettings } from './call-outcome';

const identity = (value: Buffer): Buffer => value;

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
  return unaryOutcome<EchoResponse>(settings, (metadata, options, callback) =>
    client.echo(request, metadata, options, callback),
  ).done;
}

/** Runs a `ServerStream` call to completion. Never rejects: errors are in `status`. */
export function callServerStream(
  client: EchoServiceClient,
  request: EchoRequest,
  settings: CallSettings = {},
): Promise<CallOutcome> {
  return streamOutcome(
    client.serverStream(request, settings.metadata ?? new Metadata(), settings.options),
  );
}

/** Runs a `ClientStream` call: writes `requests`, half-closes, awaits the end. */
export function callClientStream(
  client: EchoServiceClient,
  requests: readonly EchoRequest[],
  settings: CallSettings = {},
): Promise<CallOutcome> {
  const { call, done } = unaryOutcome<EchoResponse, ClientWritableStream<EchoRequest>>(
    settings,
    (metadata, options, callback) => client.clientStream(metadata, options, callback),
  );
  return writeAll(call, requests, done);
}

/** Runs a `Bidi` call: writes every request at once, half-closes, collects the responses. */
export function callBidi(
  client: EchoServiceClient,
  requests: readonly EchoRequest[],
  settings: CallSettings = {},
): Promise<CallOutcome> {
  const session = openBidi(client, settings);
  return writeAll(session.call, requests, session.outcome);
}

/** Opens a bidi call for step-by-step tests (lockstep ping-pong, cancellation, ...). */
export function openBidi(client: EchoServiceClient, settings: CallSettings = {}): BidiSession {
  return bidiSession(client.bidi(settings.metadata ?? new Metadata(), settings.options));
}

/**
 * Runs a unary call of any method, `/package.Service/Method`, with raw bytes for request and
 * response (no schema needed; any grpc-js `Client` will do). Never rejects: errors are in
 * `status`.
 */
export function callRawUnary(
  client: Client,
  method: string,
  request: Buffer,
  settings: CallSettings = {},
): Promise<CallOutcome<Buffer>> {
  return unaryOutcome<Buffer>(settings, (metadata, options, callback) =>
    client.makeUnaryRequest(method, identity, identity, request, metadata, options, callback),
  ).done;
}

/**
 * Runs a client-streaming call of any method with raw bytes, like {@link callRawUnary}: writes
 * `requests`, half-closes, awaits the end. Never rejects: errors are in `status`.
 */
export function callRawClientStream(
  client: Client,
  method: string,
  requests: readonly Buffer[],
  settings: CallSettings = {},
): Promise<CallOutcome<Buffer>> {
  const { call, done } = unaryOutcome<Buffer, ClientWritableStream<Buffer>>(
    settings,
    (metadata, options, callback) =>
      client.makeClientStreamRequest(method, identity, identity, metadata, options, callback),
  );
  return writeAll(call, requests, done);
}

/**
 * Runs a server-streaming call of any method with raw bytes, like {@link callRawUnary}. Never
 * rejects: errors are in `status`.
 */
export function callRawServerStream(
  client: Client,
  method: string,
  request: Buffer,
  settings: CallSettings = {},
): Promise<CallOutcome<Buffer>> {
  const metadata = settings.metadata ?? new Metadata();
  return streamOutcome(
    client.makeServerStreamRequest(method, identity, identity, request, metadata, settings.options),
  );
}

/**
 * Runs a bidi call of any method with raw bytes, like {@link callRawUnary}: writes every request
 * at once, half-closes, collects the responses. Never rejects: errors are in `status`.
 */
export function callRawBidi(
  client: Client,
  method: string,
  requests: readonly Buffer[],
  settings: CallSettings = {},
): Promise<CallOutcome<Buffer>> {
  const session = openRawBidi(client, method, settings);
  return writeAll(session.call, requests, session.outcome);
}

/**
 * Opens a bidi call of any method, `/package.Service/Method`, with raw bytes for requests and
 * responses, driven step by step like {@link openBidi}.
 */
export function openRawBidi(
  client: Client,
  method: string,
  settings: CallSettings = {},
): BidiSession<Buffer, Buffer> {
  return bidiSession(
    client.makeBidiStreamRequest(
      method,
      identity,
      identity,
      settings.metadata ?? new Metadata(),
      settings.options,
    ),
  );
}
