import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ServerHttp2Stream } from 'node:http2';

/**
 * Calls `listener` with every HTTP/2 server stream the process accepts (the proxy's and the
 * backends'), as its headers arrive: node:http2's diagnostics channel (Node.js 22 and later).
 * Returns the unsubscribe.
 */
export function onServerStreams(listener: (stream: ServerHttp2Stream) => void): () => void {
  const onMessage = (message: unknown): void =>
    listener((message as { stream: ServerHttp2Stream }).stream);
  subscribe('http2.server.stream.start', onMessage);
  return () => void unsubscribe('http2.server.stream.start', onMessage);
}
