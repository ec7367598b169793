import { Client, Metadata, Server, credentials, status as Status } from '@grpc/grpc-js';
import type { CallOptions, ServerDuplexStream, StatusObject } from '@grpc/grpc-js';
import { bindLocal } from '../bind-local';
import { EchoRequest, EchoServiceService } from '../gen/grpc_proxy/testing/v1/echo';
import { OPAQUE_ECHO_METHOD } from '../opaque-echo';

/**
 * A deliberate defect of the test forwarder, each one a classic proxy bug that some
 * conformance case must catch.
 */
export type ForwarderFault =
  /** Forwards the status but not the backend's trailers. */
  | 'drop-trailers'
  /** Strips `grpc-status-details-bin` from the trailers. */
  | 'drop-status-details'
  /** Holds response headers until the first response message (or the status). */
  | 'hold-headers'
  /** Always sends a headers frame, turning trailers-only responses into headers + trailers. */
  | 'headers-before-every-status'
  /** Does not cancel the backend call when the client cancels. */
  | 'ignore-cancel'
  /** Does not pass the client's deadline to the backend. */
  | 'drop-deadline'
  /** Waits for the client's half-close before passing the backend's status on. */
  | 'wait-for-half-close'
  /** Passes the client's half-close on only once the backend has sent a response. */
  | 'hold-half-close'
  /** Replaces the backend's status message with its own. */
  | 'rewrite-status-message'
  /** Answers methods it does not know itself (UNIMPLEMENTED) instead of forwarding them. */
  | 'answer-unknown-methods'
  /** Keeps grpc-js's default 4 MiB receive limit on both legs. */
  | 'default-message-limits'
  /** Adds `x-forwarded-for` to the request metadata. */
  | 'add-request-header'
  /** Adds `server: forwarder` to the response headers. */
  | 'add-response-header'
  /** Drops request metadata values over 16 KiB. */
  | 'drop-large-metadata'
  /** Parses every message as an `EchoRequest` (then re-encodes it); fails calls whose don't. */
  | 'decode-messages'
  /** Cancels a call after 100 ms without a message either way. */
  | 'idle-timeout-100ms';

const LARGE_METADATA = 16 * 1024;
const IDLE_TIMEOUT_MS = 100;

/** Paths the forwarder serves besides the echo service's, to pass unknown methods on. */
const UNKNOWN_PATHS = [
  '/grpc_proxy.testing.v1.EchoService/NoSuchMethod',
  '/grpc_proxy.testing.v1.NoSuchService/Method',
];

/** Transport headers grpc-js sets itself on each leg; forwarding them would duplicate them. */
const TRANSPORT_KEYS = [
  'content-type',
  'te',
  'user-agent',
  'grpc-accept-encoding',
  'grpc-encoding',
  'grpc-timeout',
];

const identity = (value: Buffer): Buffer => value;

function withoutTransportKeys(metadata: Metadata): Metadata {
  const copy = metadata.clone();
  for (const key of TRANSPORT_KEYS) copy.remove(key);
  return copy;
}

/**
 * A minimal grpc-js forwarder for this package's own tests: every echo method (and
 * {@link UNKNOWN_PATHS}) is served as a raw bidi stream and passed to `backendAddress`. With no
 * faults it passes the conformance suite; each fault breaks it in one known way.
 */
export async function startForwarder(
  backendAddress: string,
  faults: readonly ForwarderFault[] = [],
): Promise<{ address: string; close(): Promise<void> }> {
  const has = (fault: ForwarderFault): boolean => faults.includes(fault);
  const limits = has('default-message-limits')
    ? {}
    : { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 };
  const backend = new Client(backendAddress, credentials.createInsecure(), limits);
  const server = new Server(limits);
  const paths = [
    ...Object.values(EchoServiceService).map((method) => method.path),
    OPAQUE_ECHO_METHOD,
    ...(has('answer-unknown-methods') ? [] : UNKNOWN_PATHS),
  ];
  for (const path of paths) {
    server.register(
      path,
      (call: ServerDuplexStream<Buffer, Buffer>) => forward(call, backend, has),
      identity,
      identity,
      'bidi',
    );
  }
  const port = await bindLocal(server);
  return {
    address: `127.0.0.1:${port}`,
    close: async () => {
      server.forceShutdown();
      backend.close();
    },
  };
}

function forward(
  call: ServerDuplexStream<Buffer, Buffer>,
  backend: Client,
  has: (fault: ForwarderFault) => boolean,
): void {
  const options: CallOptions = has('drop-deadline') ? {} : { deadline: call.getDeadline() };
  const upstream = backend.makeBidiStreamRequest(
    call.getPath(),
    identity,
    identity,
    requestMetadata(call, has),
    options,
  );
  const idle = idleTimer(call, upstream, has);
  let heldHeaders: Metadata | undefined;
  let headersSent = false;
  let clientHalfClosed = false;
  let responded = false;
  let halfClosePending = false;
  const sendHeaders = (headers: Metadata): void => {
    headersSent = true;
    call.sendMetadata(headers);
  };

  upstream.on('metadata', (headers: Metadata) => {
    const forwarded = withoutTransportKeys(headers);
    if (has('add-response-header')) forwarded.set('server', 'forwarder');
    if (has('hold-headers')) heldHeaders = forwarded;
    else sendHeaders(forwarded);
  });
  upstream.on('data', (message: Buffer) => {
    idle.touch();
    if (heldHeaders !== undefined) sendHeaders(heldHeaders);
    heldHeaders = undefined;
    responded = true;
    if (halfClosePending) upstream.end();
    halfClosePending = false;
    if (!call.write(message)) {
      upstream.pause();
      call.once('drain', () => upstream.resume());
    }
  });
  upstream.on('error', () => undefined); // the status event carries it
  // grpc-js reports an OK status while messages a paused read left queued are still to come:
  // the call ends only once the last of them went out.
  const readEnded = new Promise((resolve) => upstream.once('end', resolve));
  upstream.on('status', (status: StatusObject) => {
    idle.stop();
    const finish = (): void => {
      if (status.code === Status.OK) void readEnded.then(() => finishWith(call, status, has));
      else finishWith(call, status, has);
    };
    if (heldHeaders !== undefined) sendHeaders(heldHeaders);
    else if (has('headers-before-every-status') && !headersSent) sendHeaders(new Metadata());
    if (has('wait-for-half-close') && !clientHalfClosed) call.once('end', finish);
    else finish();
  });

  call.on('data', (message: Buffer) => {
    idle.touch();
    if (has('decode-messages') && !decodes(message)) {
      call.emit('error', {
        code: Status.INTERNAL,
        details: 'forwarder could not decode a message',
      });
      upstream.cancel();
      return;
    }
    if (!upstream.write(message)) {
      call.pause();
      upstream.once('drain', () => call.resume());
    }
  });
  call.on('end', () => {
    clientHalfClosed = true;
    if (has('hold-half-close') && !responded) halfClosePending = true;
    else upstream.end();
  });
  call.on('cancelled', () => {
    // grpc-js also emits 'cancelled' after a normal end; cancelling a finished call is a no-op.
    if (!has('ignore-cancel')) upstream.cancel();
  });
}

function requestMetadata(
  call: ServerDuplexStream<Buffer, Buffer>,
  has: (fault: ForwarderFault) => boolean,
): Metadata {
  const metadata = withoutTransportKeys(call.metadata);
  if (has('add-request-header')) metadata.set('x-forwarded-for', '127.0.0.1');
  if (has('drop-large-metadata')) {
    for (const [key, values] of Object.entries(metadata.toJSON())) {
      if (values.some((value) => value.length > LARGE_METADATA)) metadata.remove(key);
    }
  }
  return metadata;
}

function decodes(message: Buffer): boolean {
  try {
    EchoRequest.decode(message);
    return true;
  } catch {
    return false;
  }
}

/** With `idle-timeout-100ms`, cancels both legs after that long without a message. */
function idleTimer(
  call: ServerDuplexStream<Buffer, Buffer>,
  upstream: { cancel(): void },
  has: (fault: ForwarderFault) => boolean,
): { touch(): void; stop(): void } {
  if (!has('idle-timeout-100ms')) return { touch: () => undefined, stop: () => undefined };
  let timer: NodeJS.Timeout | undefined;
  const touch = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      call.emit('error', { code: Status.UNAVAILABLE, details: 'forwarder idle timeout' });
      upstream.cancel();
    }, IDLE_TIMEOUT_MS);
  };
  touch();
  return { touch, stop: () => clearTimeout(timer) };
}

function finishWith(
  call: ServerDuplexStream<Buffer, Buffer>,
  status: StatusObject,
  has: (fault: ForwarderFault) => boolean,
): void {
  const trailers = has('drop-trailers') ? new Metadata() : withoutTransportKeys(status.metadata);
  if (has('drop-status-details')) trailers.remove('grpc-status-details-bin');
  const details = has('rewrite-status-message') ? 'forwarder error' : status.details;
  if (status.code === Status.OK) call.end(trailers);
  else call.emit('error', { code: status.code, details, metadata: trailers });
}
