/**
 * A call opened by a bare `node:http2` client, for what a grpc-js client cannot do: go away
 * without half-closing. (A grpc-js client's cancel half-closes first: Node's http2 ends a
 * stream's writable side, END_STREAM, before it sends RST_STREAM, so a proxy may rightly see a
 * half-close before the cancel.)
 */
import { connect as connectSocket } from 'node:net';
import { connect, constants } from 'node:http2';
import type { ClientHttp2Session, IncomingHttpHeaders } from 'node:http2';
import { ECHO_SERVICE_NAME } from '../echo-server';
import { CALL_ID_KEY } from './types';

/** A bidi call of the echo service that sends nothing; `drop()` loses its connection. */
export interface RawPeekCall {
  /**
   * The call's `grpc-status` as the client received it (trailers, or a trailers-only
   * response); `undefined` when the stream closed without one.
   */
  readonly status: Promise<number | undefined>;
  /** Destroys the client's connection at once: no END_STREAM, no RST_STREAM, no GOAWAY. */
  drop(): void;
  /** Closes the connection if `drop()` was not called. */
  close(): void;
}

/**
 * Opens a bidi call to the proxy at `address` (`host:port` or `unix:/path`), tagged `callId`,
 * with a `grpc-timeout` of `timeoutMs` when given (default: none). It never sends a message nor
 * half-closes, and never cancels, even past its deadline: ending it is the proxy's job.
 */
export function openRawPeekCall(address: string, callId: string, timeoutMs?: number): RawPeekCall {
  // Our own socket, so that drop() can destroy it (Node 22 refuses it through session.socket).
  const socket = address.startsWith('unix:')
    ? connectSocket(address.slice('unix:'.length))
    : connectSocket(Number(address.slice(address.lastIndexOf(':') + 1)), hostOf(address));
  const session: ClientHttp2Session = connect('http://localhost', {
    createConnection: () => socket,
  });
  // The connection's end is the point of the call: its errors are expected.
  session.on('error', () => undefined);
  const stream = session.request(
    {
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      [constants.HTTP2_HEADER_PATH]: `/${ECHO_SERVICE_NAME}/Bidi`,
      [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
      [constants.HTTP2_HEADER_TE]: 'trailers',
      [CALL_ID_KEY]: callId,
      ...(timeoutMs === undefined ? {} : { 'grpc-timeout': `${timeoutMs}m` }),
    },
    { endStream: false },
  );
  stream.on('error', () => undefined);
  stream.resume(); // the responses are not the point; reading lets 'close' come
  const status = new Promise<number | undefined>((resolve) => {
    const take = (headers: IncomingHttpHeaders): void => {
      const code = headers['grpc-status'];
      if (typeof code === 'string') resolve(Number(code));
    };
    stream.on('response', take);
    stream.on('trailers', take);
    stream.on('close', () => resolve(undefined));
  });
  return {
    status,
    drop: () => socket.destroy(),
    close: () => session.destroy(),
  };
}

function hostOf(address: string): string {
  return address.slice(0, address.lastIndexOf(':')).replace(/^\[|\]$/g, '');
}
