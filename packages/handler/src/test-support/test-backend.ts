/**
 * A raw grpc-js backend for the handler tests: methods of all four kinds under `test.Echo`, plus
 * an "unknown" service, recording what reached it (metadata, deadline, cancellations).
 */
import {
  Metadata,
  status,
  type sendUnaryData,
  type Server,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import { raw, startServer, type RunningServer } from './grpc-fixtures';

export interface SeenCall {
  readonly method: string;
  readonly metadata: Metadata;
  readonly deadline: number;
  cancelled: boolean;
  ended: boolean;
}

export interface TestBackend extends RunningServer {
  readonly seen: SeenCall[];
}

export const ECHO = '/test.Echo';
export const UNKNOWN_METHOD = '/never.Registered/AnyMethod';

function trailers(): Metadata {
  const md = new Metadata();
  md.set('x-trailer', 'trailer-value');
  md.set('x-trailer-bin', Buffer.from([0, 1, 2, 255]));
  return md;
}

function headers(): Metadata {
  const md = new Metadata();
  md.set('x-header', 'header-value');
  md.set('x-header-bin', Buffer.from([9, 8, 7]));
  return md;
}

/** When the request carries `x-fail-code`, the error the backend answers with. */
function requestedFailure(
  metadata: Metadata,
): { code: number; details: string; metadata: Metadata } | null {
  const code = metadata.get('x-fail-code')[0];
  if (code === undefined) return null;
  const md = trailers();
  md.set('grpc-status-details-bin', Buffer.from('rich-details'));
  return { code: Number(code), details: `failure ${code}: with spaces, ünïcode & %`, metadata: md };
}

function record(
  seen: SeenCall[],
  call: {
    getPath(): string;
    metadata: Metadata;
    getDeadline(): unknown;
    on(e: 'cancelled', f: () => void): unknown;
  },
): SeenCall {
  const deadline = call.getDeadline();
  const entry: SeenCall = {
    method: call.getPath(),
    metadata: call.metadata.clone(),
    deadline: deadline instanceof Date ? deadline.getTime() : Number(deadline),
    cancelled: false,
    ended: false,
  };
  seen.push(entry);
  return entry;
}

function unary(seen: SeenCall[]) {
  return (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
    const entry = record(seen, call);
    const failure = requestedFailure(call.metadata);
    if (call.metadata.get('x-send-headers')[0] !== 'no') call.sendMetadata(headers());
    entry.ended = true;
    if (failure) callback(failure);
    else callback(null, Buffer.concat([Buffer.from('echo:'), call.request]), trailers());
  };
}

function clientStream(seen: SeenCall[]) {
  return (call: ServerReadableStream<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
    const entry = record(seen, call);
    call.sendMetadata(headers());
    const parts: Buffer[] = [];
    call.on('data', (chunk: Buffer) => parts.push(chunk));
    call.on('end', () => {
      entry.ended = true;
      callback(null, Buffer.concat([Buffer.from(`n=${parts.length}:`), ...parts]), trailers());
    });
  };
}

function serverStream(seen: SeenCall[]) {
  return (call: ServerWritableStream<Buffer, Buffer>) => {
    const entry = record(seen, call);
    const count = Number(call.metadata.get('x-count')[0] ?? 3);
    call.sendMetadata(headers());
    for (let i = 0; i < count; i++)
      call.write(Buffer.concat([call.request, Buffer.from([i % 256])]));
    entry.ended = true;
    const failure = requestedFailure(call.metadata);
    if (failure) call.emit('error', failure);
    else call.end(trailers());
  };
}

function bidi(seen: SeenCall[]) {
  return (call: ServerDuplexStream<Buffer, Buffer>) => {
    const entry = record(seen, call);
    call.on('cancelled', () => {
      if (!entry.ended) entry.cancelled = true;
    });
    if (call.metadata.get('x-send-headers')[0] !== 'no') call.sendMetadata(headers());
    call.on('data', (chunk: Buffer) => call.write(chunk));
    call.on('end', () => {
      entry.ended = true;
      call.end(trailers());
    });
  };
}

/** Ends with OK after the first message, without waiting for the client's half-close. */
function endEarly(seen: SeenCall[]) {
  return (call: ServerDuplexStream<Buffer, Buffer>) => {
    const entry = record(seen, call);
    call.once('data', (chunk: Buffer) => {
      call.write(chunk);
      entry.ended = true;
      call.end(trailers());
    });
  };
}

/** Never answers; records cancellation. */
function hang(seen: SeenCall[]) {
  return (call: ServerDuplexStream<Buffer, Buffer>) => {
    const entry = record(seen, call);
    call.on('data', () => undefined);
    call.on('cancelled', () => {
      entry.cancelled = true;
    });
  };
}

/**
 * Echoes each message and never ends, not even on the client's half-close (which a reset stream
 * also brings): `cancelled` means the call was cancelled.
 */
function echoForever(seen: SeenCall[]) {
  return (call: ServerDuplexStream<Buffer, Buffer>) => {
    const entry = record(seen, call);
    call.on('data', (chunk: Buffer) => call.write(chunk));
    call.on('cancelled', () => {
      entry.cancelled = true;
    });
  };
}

/** Trailers-only error: no headers, no message. */
function trailersOnly(seen: SeenCall[]) {
  return (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
    record(seen, call).ended = true;
    callback({ code: status.NOT_FOUND, details: 'nothing here', metadata: trailers() });
  };
}

/** Sends status keys inside its response headers (a forged status), then answers normally. */
function forgedHeaders(seen: SeenCall[]) {
  return (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
    record(seen, call).ended = true;
    const md = headers();
    md.set('grpc-status', String(status.INTERNAL));
    md.set('grpc-message', 'forged');
    call.sendMetadata(md);
    callback(null, call.request);
  };
}

export function registerTestService(server: Server, seen: SeenCall[]): void {
  server.register(`${ECHO}/ForgedHeaders`, forgedHeaders(seen), raw, raw, 'unary');
  server.register(`${ECHO}/Unary`, unary(seen), raw, raw, 'unary');
  server.register(`${ECHO}/ClientStream`, clientStream(seen), raw, raw, 'clientStream');
  server.register(`${ECHO}/ServerStream`, serverStream(seen), raw, raw, 'serverStream');
  server.register(`${ECHO}/Bidi`, bidi(seen), raw, raw, 'bidi');
  server.register(`${ECHO}/EndEarly`, endEarly(seen), raw, raw, 'bidi');
  server.register(`${ECHO}/Hang`, hang(seen), raw, raw, 'bidi');
  server.register(`${ECHO}/EchoForever`, echoForever(seen), raw, raw, 'bidi');
  server.register(`${ECHO}/TrailersOnly`, trailersOnly(seen), raw, raw, 'unary');
  server.register(UNKNOWN_METHOD, unary(seen), raw, raw, 'unary');
}

/** Starts the test backend on 127.0.0.1:`port` (default 0: any free port). */
export async function startTestBackend(
  options?: Record<string, unknown>,
  port = 0,
): Promise<TestBackend> {
  const seen: SeenCall[] = [];
  const running = await startServer((server) => registerTestService(server, seen), options, port);
  return { ...running, seen };
}
