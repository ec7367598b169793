import type { Server, ServerCredentials } from '@grpc/grpc-js';
import { createProxyServer, type CallObserver, type StreamDirector } from '@grpc-proxy/handler';
import { createHttp2Proxy, type Http2ClientLimits, type Http2Proxy } from '@grpc-proxy/http2';
import { createCallTracker } from './call-tracker';
import type { ResolvedProxyConfig, ServerTlsConfig } from './config/types';
import { limitOptions } from './limits';
import { combineObservers } from './logging';
import { serverCredentials, serverTlsPem, updateServerCredentials } from './tls';

/** The status message of calls still running when the drain timeout ends them. */
export const SHUTDOWN_MESSAGE = 'grpc-proxy: shutting down';

/** What both engines are started with. */
export interface EngineParts {
  readonly config: ResolvedProxyConfig;
  readonly director: StreamDirector;
  readonly observer: CallObserver;
}

/** The gRPC listeners of one engine, as `startProxy` drives them. */
export interface EngineServer {
  /** Starts listening on `address`; resolves with it, the real port filled in. */
  listen(address: string): Promise<string>;
  /**
   * Stops listening on `bound` (an address {@link listen} resolved with): its clients get GOAWAY
   * and their running calls finish (for at most `drainTimeoutMs`). Resolves once it is closed.
   */
  unlisten(bound: string, drainTimeoutMs: number): Promise<void>;
  /**
   * Gives new connections the certificate, key and client CA of `tls` (same mode: TLS and mutual
   * TLS as at the start); connections already open keep theirs. False when the engine cannot.
   */
  updateTls(tls: ServerTlsConfig): boolean;
  /** Calls running now. */
  readonly activeCalls: number;
  /**
   * Stops accepting, lets running calls finish until `deadline` resolves (or `timeoutMs`), ends
   * the rest with `UNAVAILABLE` {@link SHUTDOWN_MESSAGE}. Resolves with how many it ended.
   */
  drain(deadline: Promise<void>, timeoutMs: number): Promise<number>;
  /** Closes at once (a failed start). */
  abort(): void;
}

function metadataPolicy(config: ResolvedProxyConfig) {
  return { stripKeys: config.metadata.strip, forwardedFor: config.metadata.forwardedFor };
}

function bind(server: Server, address: string, credentials: ServerCredentials): Promise<string> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (error, port) => {
      if (error) reject(new Error(`cannot listen on ${address}: ${error.message}`));
      else resolve(address.startsWith('unix:') ? address : address.replace(/:\d+$/, `:${port}`));
    });
  });
}

/** The grpc-js engine: one `createProxyServer` bound to every address. */
export function grpcJsServer({ config, director, observer }: EngineParts): EngineServer {
  const limits = limitOptions(config.limits);
  const tracker = createCallTracker();
  const server = createProxyServer({
    director,
    ...limits.messages,
    metadata: metadataPolicy(config),
    observer,
    // The tracker first, so that it sees every call (and can end it at the drain timeout).
    serverOptions: { ...limits.serverOptions, interceptors: [tracker.interceptor] },
  });
  // One credentials object for every listener: a certificate rotation reaches them all.
  const credentials = serverCredentials(config.tls);
  return {
    listen: (address) => bind(server, address, credentials),
    unlisten(bound) {
      // grpc-js closes the listener and sends GOAWAY; running calls finish on their connections.
      server.unbind(bound);
      return Promise.resolve();
    },
    updateTls(tls) {
      updateServerCredentials(credentials, tls);
      return true;
    },
    get activeCalls() {
      return tracker.activeCalls;
    },
    async drain(deadline) {
      const drained = new Promise<'drained'>((resolve) =>
        server.tryShutdown(() => resolve('drained')),
      );
      if ((await Promise.race([drained, deadline])) === 'drained') return 0;
      const ended = tracker.endAll(SHUTDOWN_MESSAGE);
      // The statuses just sent need the connections a moment longer; tryShutdown resolves once
      // they are flushed. forceShutdown is only the backstop for a peer that never reads.
      const backstop = setTimeout(() => server.forceShutdown(), 2000);
      await drained;
      clearTimeout(backstop);
      return ended;
    },
    abort: () => server.forceShutdown(),
  };
}

/** The config's limits towards clients, as the http2 engine's options. */
function clientLimits(limits: ResolvedProxyConfig['limits']): Http2ClientLimits {
  return {
    maxConcurrentStreams: limits.maxConcurrentStreams,
    clientIdleTimeoutMs: limits.idleTimeoutMs,
    maxClientResetsPerSecond: limits.maxResetsPerSecond,
    maxClientBufferBytes: limits.maxBufferedBytes,
    clientStallTimeoutMs: limits.stallTimeoutMs,
    backendResetBurst: limits.backendResetBurst,
    backendResetsPerSecond: limits.backendResetsPerSecond,
  };
}

/**
 * The http2 engine: one `createHttp2Proxy` per address (it listens once), all sharing the
 * director and the observer. Client-side keepalive (`limits.keepalive` towards clients) has no
 * http2-engine equivalent and is ignored; towards backends it becomes `backendKeepaliveMs` /
 * `backendKeepaliveTimeoutMs`.
 */
export function http2Server({ config, director, observer }: EngineParts): EngineServer {
  const { maxMessageBytes, keepalive } = config.limits;
  let draining = false;
  let endedByProxy = 0;
  // The engine ends the stragglers itself; the count comes from their reports.
  const shutdowns: CallObserver = {
    onCallEnd: (report) => {
      if (draining && report.proxyError && report.details === SHUTDOWN_MESSAGE) endedByProxy += 1;
    },
  };
  const options = {
    director,
    maxReceiveMessageLength: maxMessageBytes,
    maxSendMessageLength: maxMessageBytes,
    metadata: metadataPolicy(config),
    observer: combineObservers(observer, shutdowns),
    ...(config.tls && { tls: serverTlsPem(config.tls) }),
    ...clientLimits(config.limits),
    ...(keepalive.timeMs !== undefined && { backendKeepaliveMs: keepalive.timeMs }),
    ...(keepalive.timeoutMs !== undefined && { backendKeepaliveTimeoutMs: keepalive.timeoutMs }),
  };
  // Every listener, by the address it resolved with; a closing one stays until it is closed.
  const proxies = new Map<string, Http2Proxy>();
  const closeAll = (timeoutMs: number) =>
    Promise.all([...proxies.values()].map((proxy) => proxy.close(timeoutMs)));
  return {
    async listen(address) {
      const proxy = createHttp2Proxy(options);
      let bound: string;
      try {
        bound = await proxy.listen(address);
      } catch (error) {
        void proxy.close(0);
        throw new Error(`cannot listen on ${address}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      proxies.set(bound, proxy);
      return bound;
    },
    async unlisten(bound, drainTimeoutMs) {
      await proxies.get(bound)?.close(drainTimeoutMs);
      proxies.delete(bound);
    },
    // The engine's server keeps the TLS it was created with (no setSecureContext exposed yet).
    updateTls: () => false,
    get activeCalls() {
      return [...proxies.values()].reduce((sum, proxy) => sum + proxy.activeCalls, 0);
    },
    async drain(_deadline, timeoutMs) {
      // The engine's close cannot be cut short once begun, so `endRunningCalls` does not reach it.
      draining = true;
      await closeAll(timeoutMs);
      return endedByProxy;
    },
    abort: () => void closeAll(0),
  };
}
