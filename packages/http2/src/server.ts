/**
 * The http2 engine's server: a `node:http2` server whose every request is proxied through a
 * `StreamDirector`. Non-gRPC requests get the answer the gRPC HTTP/2 spec gives them.
 */
import {
  constants,
  createSecureServer,
  createServer,
  type Http2SecureServer,
  type Http2Server,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { ListenOptions } from 'node:net';
import { status } from '@grpc/grpc-js';
import { isGrpcContentType, statusTrailers } from './headers';
import { parseGrpcTimeout } from './grpc-timeout';
import { Http2IncomingCall } from './incoming-call';
import { dropMirrorsOf } from './mirror';
import { formatAddress, listenOptions } from './listen-address';
import {
  DEFAULT_DRAIN_TIMEOUT_MS,
  resolveHttp2Options,
  type Http2ProxyOptions,
  type Http2ProxyTls,
  sessionOptionsOf,
  type ResolvedHttp2Options,
} from './options';
import type { CallContext } from './call-context';
import { Http2ProxiedCall } from './proxied-call';
import { SessionPool, widenConnectionWindow } from './session-pool';
import { CallSet } from './call-set';
import { ClientGuards } from './client-guard';
import { DeferredStarts } from './deferred-starts';

type Listener = Http2Server | Http2SecureServer;

/** A running (or not yet listening) http2 proxy; made by {@link createHttp2Proxy}. */
export interface Http2Proxy {
  /**
   * Starts listening on `address`: `host:port`, `[v6]:port` (port 0: any free port) or
   * `unix:/path`. Resolves with the address clients dial, the real port filled in. Once only.
   */
  listen(address: string): Promise<string>;
  /** The address {@link listen} resolved with; `''` before. */
  readonly address: string;
  /** The calls running now. */
  readonly activeCalls: number;
  /**
   * Stops graceful: no new connections, GOAWAY to every client, running calls finish; those still
   * running after `drainTimeoutMs` end with `UNAVAILABLE` `<proxyName>: shutting down`. Then every
   * connection (clients' and backends') is closed. Resolves once the server is closed.
   * @param drainTimeoutMs default 10 000 ms; 0 ends running calls at once, also when called
   *   again with 0 during a drain (a second signal).
   */
  close(drainTimeoutMs?: number): Promise<void>;
  /**
   * Gives new connections a new certificate, key and client CA (certificate rotation); running
   * connections keep theirs. The mode stays what the proxy was created with.
   * @throws TypeError on a proxy created without TLS, or when `tls` would turn mutual TLS on or
   *   off (a new proxy is needed for that)
   */
  setTls(tls: Http2ProxyTls): void;
}

function reject(stream: ServerHttp2Stream, httpStatus: number, message: string): void {
  const headers = statusTrailers(status.INTERNAL, message, undefined);
  headers[constants.HTTP2_HEADER_STATUS] = httpStatus;
  if (httpStatus === constants.HTTP_STATUS_METHOD_NOT_ALLOWED) headers.allow = 'POST';
  stream.respond(headers, { endStream: true });
}

/**
 * Creates a proxy on `node:http2` (plaintext h2c, or TLS with `options.tls`) that forwards every gRPC call, as HTTP/2 frames
 * and without decoding a message, to the backend `options.director` picks. Routes name their
 * backend by target: `{ name, target }`, or a `createBackend` backend of `@grpc-proxy/director`.
 *
 * @param options see {@link Http2ProxyOptions}; `director` is required.
 * @throws TypeError without a director; RangeError for a bad limit or timeout.
 */
export function createHttp2Proxy(options: Http2ProxyOptions): Http2Proxy {
  const resolved = resolveHttp2Options(options);
  const context: CallContext = {
    director: options.director,
    options: resolved,
    pool: new SessionPool(sessionOptionsOf(resolved)),
    calls: new CallSet(),
  };
  const guards = new ClientGuards(resolved, (stream, incoming) =>
    new Http2ProxiedCall(stream, incoming, context).start(),
  );
  const starts = new DeferredStarts((stream, incoming) => guards.start(stream, incoming));
  const server = createListener(resolved);
  server.on('session', (session: Http2Session) => {
    guards.add(session);
    widenConnectionWindow(session, resolved.connectionWindowSize);
    // A broken client connection ends its streams (and their calls) by itself.
    session.on('error', ignoreError);
  });
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) =>
    onStream(stream, headers, context, guards, starts),
  );
  let address = '';
  let closing: Promise<void> | undefined;
  let cutDrainShort = (): void => {};
  return {
    get address() {
      return address;
    },
    get activeCalls() {
      return context.calls.size;
    },
    listen: async (where) => {
      const listen = listenOptions(where);
      await listenOn(server, listen);
      address = formatAddress(server.address(), listen);
      return address;
    },
    close: (drainTimeoutMs = DEFAULT_DRAIN_TIMEOUT_MS) => {
      if (closing !== undefined) {
        if (drainTimeoutMs === 0) cutDrainShort();
        return closing;
      }
      const cutShort = new Promise<void>((resolve) => (cutDrainShort = resolve));
      closing = drain(server, guards, context, drainTimeoutMs, cutShort);
      return closing;
    },
    setTls: (tls) => rotateTls(server, resolved.tls, tls),
  };
}

function rotateTls(server: Listener, created: Http2ProxyTls | undefined, tls: Http2ProxyTls): void {
  if (created === undefined || !('setSecureContext' in server)) {
    throw new TypeError('setTls needs a proxy created with tls (plaintext cannot turn into TLS)');
  }
  if ((created.clientCa === undefined) !== (tls.clientCa === undefined)) {
    throw new TypeError('setTls cannot turn mutual TLS on or off: create a new proxy for that');
  }
  server.setSecureContext({ cert: tls.cert, key: tls.key, ca: tls.clientCa });
}

function ignoreError(): void {}

/**
 * Node's own reset limit (nghttp2's: 1 000, then 33 a second, counting every RST_STREAM, those of
 * answered streams too) would cut a client that cancels many of its calls, which the proxy's
 * limit lets through: it becomes a distant backstop, ten times the proxy's.
 */
function nodeResetLimit(options: ResolvedHttp2Options) {
  const perSecond = options.maxClientResetsPerSecond;
  if (perSecond === Infinity) return {};
  return {
    streamResetBurst: Math.max(1000, 10 * perSecond),
    streamResetRate: Math.max(33, 10 * perSecond),
  };
}

/** A plaintext (h2c) server, or with `tls` a TLS one offering only HTTP/2 (ALPN `h2`). */
function createListener(options: ResolvedHttp2Options): Listener {
  const tls = options.tls;
  // No cap on a session's memory (as grpc-js): past Node's 10 MB, Node refuses new streams with
  // ENHANCE_YOUR_CALM, while the flow-control windows and the stream limit bound what it holds.
  const base = {
    settings: options.serverSettings,
    maxSessionMemory: Number.MAX_SAFE_INTEGER,
    ...nodeResetLimit(options),
  };
  if (tls === undefined) return createServer(base);
  const mutual = tls.clientCa !== undefined;
  return createSecureServer({
    ...base,
    cert: tls.cert,
    key: tls.key,
    ca: tls.clientCa,
    requestCert: mutual,
    rejectUnauthorized: mutual,
    ALPNProtocols: ['h2'],
    allowHTTP1: false,
  });
}

function listenOn(server: Listener, options: ListenOptions): Promise<void> {
  return new Promise((resolve, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(options, () => {
      server.off('error', rejectListen);
      resolve();
    });
  });
}

function onStream(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  context: CallContext,
  guards: ClientGuards,
  starts: DeferredStarts,
): void {
  const { proxyName, policy } = context.options;
  if (headers[':method'] !== 'POST') {
    reject(
      stream,
      constants.HTTP_STATUS_METHOD_NOT_ALLOWED,
      `${proxyName}: gRPC requests are POST`,
    );
    return;
  }
  if (!isGrpcContentType(headers['content-type'])) {
    // PROTOCOL-HTTP2.md: 415, so that an HTTP client never takes the answer for a success.
    const type = JSON.stringify(headers['content-type'] ?? '');
    reject(
      stream,
      constants.HTTP_STATUS_UNSUPPORTED_MEDIA_TYPE,
      `${proxyName}: content-type ${type} is not gRPC`,
    );
    return;
  }
  const timeoutMs = parseGrpcTimeout(headers['grpc-timeout']);
  if (Number.isNaN(timeoutMs)) {
    reject(
      stream,
      200,
      `${proxyName}: invalid grpc-timeout ${JSON.stringify(headers['grpc-timeout'])}`,
    );
    return;
  }
  if (!guards.admit(stream, timeoutMs)) return;
  starts.push(stream, new Http2IncomingCall(stream, headers, policy, Date.now() + timeoutMs));
}

async function drain(
  server: Listener,
  guards: ClientGuards,
  context: CallContext,
  drainTimeoutMs: number,
  cutShort: Promise<void>,
): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // GOAWAY: clients open no new streams here; the running ones go on.
  for (const session of guards.sessions()) session.close();
  await Promise.race([context.calls.whenEmpty(drainTimeoutMs), cutShort]);
  for (const call of context.calls.running()) call.shutDown();
  // Copies inside their mirrorTimeoutMs window would hold pool sessions open past close.
  dropMirrorsOf(context.pool);
  context.pool.close();
  for (const session of guards.sessions()) session.close();
  guards.close();
  await closed;
}
