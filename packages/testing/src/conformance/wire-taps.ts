/**
 * What crossed the wire for one tagged call, seen from inside this process: the backend's HTTP/2
 * server stream of the call (request headers and messages as the backend received them) and the
 * client's stream to the proxy (response headers and messages as the client received them).
 */
import type { IncomingHttpHeaders } from 'node:http2';
import { WireMessageReader } from '../grpc-frames';
import type { WireMessage } from '../grpc-frames';
import { headerValue, onClientStreams, onServerStreams } from '../http2-taps';
import { CALL_ID_KEY } from './types';

/** One side of a call as it crossed the wire. */
export interface WireSide {
  /** Whether the stream was seen at all. */
  seen: boolean;
  /** The headers that came with it: request headers (backend), response headers (client). */
  headers: IncomingHttpHeaders;
  /** The messages as they arrived, compressed flag and bytes. */
  messages: WireMessage[];
}

/** Taps on both ends of call `id`; `stop()` when the call is over. */
export interface CallWire {
  readonly backend: WireSide;
  readonly client: WireSide;
  stop(): void;
}

/** The port of a `host:port` address; `undefined` for a unix socket (its sockets have none). */
function portOf(address: string): number | undefined {
  if (address.startsWith('unix:')) return undefined;
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

function emptySide(): WireSide {
  return { seen: false, headers: {}, messages: [] };
}

/**
 * Starts tapping call `id`: the backend's stream (the server stream on `backendPort` carrying
 * the id) and the client's (the client stream to `proxyAddress`'s port carrying the id).
 */
export function tapCall(id: string, proxyAddress: string, backendPort: number): CallWire {
  const backend = emptySide();
  const client = emptySide();
  const proxyPort = portOf(proxyAddress);
  const stopServer = onServerStreams((stream, headers) => {
    if (headerValue(headers, CALL_ID_KEY) !== id) return;
    if (stream.session?.socket.localPort !== (backendPort || undefined)) return;
    const reader = new WireMessageReader();
    Object.assign(backend, { seen: true, headers, messages: reader.messages });
    stream.on('data', (chunk: Buffer) => reader.push(chunk));
  });
  const stopClient = onClientStreams((stream, headers) => {
    if (headerValue(headers, CALL_ID_KEY) !== id) return;
    if (stream.session?.socket.remotePort !== proxyPort) return;
    const reader = new WireMessageReader();
    Object.assign(client, { seen: true, messages: reader.messages });
    stream.on('response', (responseHeaders) => (client.headers = responseHeaders));
    stream.on('data', (chunk: Buffer) => reader.push(chunk));
  });
  return {
    backend,
    client,
    stop: () => {
      stopServer();
      stopClient();
    },
  };
}
