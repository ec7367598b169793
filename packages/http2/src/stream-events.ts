/**
 * The listeners of the streams a {@link Forwarding} pumps between: shared by every call (no
 * closure per call and event), each finding its call's pump on the stream itself.
 */
import type {
  ClientHttp2Stream,
  Http2Stream,
  IncomingHttpHeaders,
  ServerHttp2Stream,
} from 'node:http2';

/** What hears the client stream's data and end: a pump, or a peek before it (./peek.ts). */
export interface ClientEvents {
  clientData(chunk: Buffer): void;
  clientEnd(): void;
}

/** What reads the client stream and writes to it: a pump, or a fan-out (./fan-out-call.ts). */
export interface ClientPump extends ClientEvents {
  clientDrain(): void;
}

/** What a pump does on the events of its two streams. */
export interface StreamEvents extends ClientPump {
  backendResponse(headers: IncomingHttpHeaders, flags: number): void;
  backendTrailers(trailers: IncomingHttpHeaders): void;
  backendData(chunk: Buffer): void;
  backendEnd(): void;
  backendClose(): void;
  backendError(error: Error): void;
  backendDrain(): void;
}

const PUMP = Symbol('pump');

type Pumped<S> = S & { [PUMP]?: StreamEvents };
/** The client stream's pump may be a fan-out, which hears the client side alone. */
type ClientPumped = ServerHttp2Stream & { [PUMP]?: ClientPump };
/** A client stream's listener may be a peek (data and end only) until the pump takes over. */
type Heard = ServerHttp2Stream & { [PUMP]?: ClientEvents };

function onClientData(this: Heard, chunk: Buffer): void {
  this[PUMP]?.clientData(chunk);
}
function onClientEnd(this: Heard): void {
  this[PUMP]?.clientEnd();
}
function onClientDrain(this: ClientPumped): void {
  // Listened to by a pump only (its writes to the client), never while a peek listens.
  this[PUMP]?.clientDrain();
}
function onBackendResponse(
  this: Pumped<ClientHttp2Stream>,
  headers: IncomingHttpHeaders,
  flags: number,
): void {
  this[PUMP]?.backendResponse(headers, flags);
}
function onBackendTrailers(this: Pumped<ClientHttp2Stream>, trailers: IncomingHttpHeaders): void {
  this[PUMP]?.backendTrailers(trailers);
}
function onBackendData(this: Pumped<ClientHttp2Stream>, chunk: Buffer): void {
  this[PUMP]?.backendData(chunk);
}
function onBackendEnd(this: Pumped<ClientHttp2Stream>): void {
  this[PUMP]?.backendEnd();
}
function onBackendClose(this: Pumped<ClientHttp2Stream>): void {
  this[PUMP]?.backendClose();
}
function onBackendError(this: Pumped<ClientHttp2Stream>, error: Error): void {
  this[PUMP]?.backendError(error);
}
function onBackendDrain(this: Pumped<ClientHttp2Stream>): void {
  this[PUMP]?.backendDrain();
}

/** `pump` hears the client stream's data and end. */
export function listenToClient(client: ServerHttp2Stream, pump: ClientEvents): void {
  (client as Heard)[PUMP] = pump;
  client.on('data', onClientData);
  client.on('end', onClientEnd);
}

/**
 * `pump` hears the client stream's data and end in place of the peek that listened
 * ({@link listenToClient}): the listeners stay (removing a 'data' listener would change the
 * stream's flowing state on the next tick).
 */
export function handOverClient(client: ServerHttp2Stream, pump: ClientPump): void {
  (client as ClientPumped)[PUMP] = pump;
}

/**
 * `pump` hears the backend stream's response, trailers, end, close and errors. Its 'data' is
 * listened to only once the response headers are in ({@link listenToBackendData}): Node 22 can
 * emit a DATA chunk that arrived in the same read as the headers before 'response', and writing
 * it to the client first would make Node send default response headers of its own.
 */
export function listenToBackend(backend: ClientHttp2Stream, pump: StreamEvents): void {
  (backend as Pumped<ClientHttp2Stream>)[PUMP] = pump;
  backend.on('response', onBackendResponse);
  backend.on('trailers', onBackendTrailers);
  backend.on('end', onBackendEnd);
  backend.on('close', onBackendClose);
  backend.on('error', onBackendError);
}

/** The backend's DATA goes to its pump. */
export function listenToBackendData(backend: ClientHttp2Stream): void {
  backend.on('data', onBackendData);
}

/** The pump hears 'drain' of the client stream (once one of its writes returned false). */
export function listenToClientDrain(client: ServerHttp2Stream): void {
  client.on('drain', onClientDrain);
}

/** The pump hears 'drain' of the backend stream (once one of its writes returned false). */
export function listenToBackendDrain(backend: ClientHttp2Stream): void {
  backend.on('drain', onBackendDrain);
}

/**
 * Writes `chunk` on `to`; when `to`'s buffer is full, pauses `from` until `to` drains, listening
 * to 'drain' from the first full buffer on (most calls never fill one). Returns whether 'drain'
 * is listened to now.
 */
export function pass<T extends Http2Stream>(
  chunk: Buffer,
  to: T,
  from: Http2Stream,
  drainHeard: boolean,
  listenToDrain: (stream: T) => void,
): boolean {
  if (to.write(chunk)) return drainHeard;
  from.pause();
  if (!drainHeard) listenToDrain(to);
  return true;
}
