/**
 * The `node:http2` stream under a grpc-js server call. grpc-js gives a handler no way to reset
 * its stream nor to close its connection, which the per-connection limits need (a stalled stream
 * is reset, a connection past the rapid-reset limit gets GOAWAY). So the call's private chain is
 * walked: `ServerDuplexStreamImpl#call`, then each interceptor's `nextCall`, down to
 * `BaseServerInterceptingCall#stream` (the same from grpc-js 1.11 to at least 1.14). When it is
 * not found, the limits fall back to what public APIs allow (see ./client-guard.ts), a
 * `GrpcProxyWarning` says so once, and `http2-stream-of.spec.ts` fails.
 */
import type { ServerHttp2Stream } from 'node:http2';
import { warnUnexpected } from './warnings';

/** Interceptors between the handler's call and grpc-js's base call; more means the chain changed. */
const MAX_DEPTH = 32;

interface Layer {
  call?: unknown;
  nextCall?: unknown;
  stream?: unknown;
}

function isServerHttp2Stream(value: unknown): value is ServerHttp2Stream {
  const candidate = value as Partial<ServerHttp2Stream> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.respond === 'function' &&
    typeof candidate.close === 'function' &&
    'rstCode' in candidate
  );
}

let warned = false;

/**
 * The http2 stream carrying `call` (a grpc-js server call given to a handler), or `undefined`
 * when grpc-js's internals are not as expected (then a warning, once per process).
 */
export function http2StreamOf(call: object): ServerHttp2Stream | undefined {
  let layer = (call as Layer).call;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    if (typeof layer !== 'object' || layer === null) break;
    const stream = (layer as Layer).stream;
    if (isServerHttp2Stream(stream)) return stream;
    layer = (layer as Layer).nextCall;
  }
  if (!warned) {
    warned = true;
    warnUnexpected(
      'grpc-proxy: the grpc-js server call has no http2 stream where expected; client connections ' +
        'are told apart by peer address, and past the limits calls are refused instead of the ' +
        'connection closed and stalled streams reset',
      new Error('grpc-js internals differ'),
    );
  }
  return undefined;
}
