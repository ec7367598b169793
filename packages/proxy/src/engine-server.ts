import type { CallObserver, StreamDirector } from '@grpc-proxy/handler';
import {
  createHttp2Proxy,
  type Http2ClientLimits,
  type Http2Proxy,
  type Http2ProxyOptions,
} from '@grpc-proxy/http2';
import type { ResolvedProxyConfig, ServerTlsConfig } from './config/types';
import { grpcJsServer, metadataPolicy, mirrorOptions, SHUTDOWN_MESSAGE } from './grpc-js-engine';
import { combineObservers } from './logging';
import { serverTlsPem } from './tls';

export { grpcJsServer, SHUTDOWN_MESSAGE };

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
  /**
   * Serves new connections with `config`'s limits, metadata policy and TLS mode (its other
   * fields are the running ones); connections already open keep theirs and drain. False when the
   * engine cannot (then nothing changed).
   */
  reconfigure(config: ResolvedProxyConfig): boolean;
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
  const options: Http2ProxyOptions = {
    director,
    maxReceiveMessageLength: maxMessageBytes,
    maxSendMessageLength: maxMessageBytes,
    metadata: metadataPolicy(config),
    ...mirrorOptions(config),
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
    // New listeners get the new material too. The mode is never changed here (see reload.ts).
    updateTls(tls) {
      const pem = serverTlsPem(tls);
      for (const proxy of proxies.values()) proxy.setTls(pem);
      options.tls = pem;
      return true;
    },
    // Limits, metadata policy and TLS mode stay what the engine was created with:
    // createHttp2Proxy has no way to hand its listener to another instance.
    reconfigure: () => false,
    get activeCalls() {
      return [...proxies.values()].reduce((sum, proxy) => sum + proxy.activeCalls, 0);
    },
    async drain(deadline, timeoutMs) {
      draining = true;
      const drained = closeAll(timeoutMs);
      // A second signal: each engine's close(0) during its drain ends the running calls at once.
      void deadline.then(() => closeAll(0));
      await drained;
      return endedByProxy;
    },
    abort: () => void closeAll(0),
  };
}
