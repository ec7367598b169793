import { integerOption, resolveClientConnectionLimits } from '@grpc-proxy/handler/engine';

/**
 * The per-client-connection limits of the http2 engine: what one abusive connection may cost the
 * proxy, its other clients and the backends (rapid reset, stream floods, readers that never
 * read, idle connections), and how many cancellations the proxy may send one backend connection.
 */

export {
  DEFAULT_CLIENT_STALL_TIMEOUT_MS,
  DEFAULT_MAX_CLIENT_BUFFER_BYTES,
  DEFAULT_MAX_CLIENT_RESETS_PER_SECOND,
  DEFAULT_MAX_CONCURRENT_STREAMS,
} from '@grpc-proxy/handler/engine';

/** 300 000 ms (5 min): how long a client connection may stay without a stream by default. */
export const DEFAULT_CLIENT_IDLE_TIMEOUT_MS = 300_000;

/**
 * 500: cancellations the proxy may send one backend connection in a burst, by default; half the
 * 1 000 after which a Node.js (grpc-js) backend closes the connection with GOAWAY.
 */
export const DEFAULT_BACKEND_RESET_BURST = 500;

/** 30: cancellations a second a backend connection is allowed after the burst (Node.js: 33). */
export const DEFAULT_BACKEND_RESETS_PER_SECOND = 30;

/** The options of `createHttp2Proxy` that protect the proxy, its clients and backends from one client. */
export interface Http2ClientLimits {
  /**
   * Calls one client connection may run at once (director asked, backend stream open). Its
   * further streams wait at the proxy, in order, until one of its calls ends; no director and no
   * backend hears of them meanwhile, and a client's deadline still ends them. The proxy announces
   * ten times this as `SETTINGS_MAX_CONCURRENT_STREAMS` (`serverSettings` may set another), so
   * that well-behaved clients queue past that; Node refuses a stream beyond it
   * (ENHANCE_YOUR_CALM) and closes a connection after 100 such. Announcing this limit itself
   * would fail calls: Node frees the slot of a stream the client reset a moment late, and
   * refuses the client's next stream meanwhile. Default: 100.
   */
  maxConcurrentStreams?: number;
  /**
   * Milliseconds a client connection may stay without any stream before it is closed (GOAWAY,
   * then close; clients reconnect on their next call). `0`: never. Default: 300 000 (5 minutes).
   */
  clientIdleTimeoutMs?: number;
  /**
   * Streams one connection may reset (RST_STREAM) before their response headers within one
   * second, beyond as many as it let finish in that second (so a client cancelling part of its
   * calls is never cut). One more and the connection gets GOAWAY(ENHANCE_YOUR_CALM) and is
   * closed, its streams with it; those not started yet never reach the director. A reset at 90 %
   * of the call's `grpc-timeout` or later is the client's deadline and is not counted. `0`: no
   * limit. Default: 200.
   */
  maxClientResetsPerSecond?: number;
  /**
   * Bytes waiting for one client connection to read (replies its flow-control windows hold
   * back) in its stalled streams: those whose full buffer sent nothing for a sweep (a quarter of
   * the shorter of `clientStallTimeoutMs` and `clientIdleTimeoutMs`, from 25 ms to 1 s). Past it
   * the connection starts no new call: its new and waiting streams are refused (REFUSED_STREAM),
   * so a connection that does not read starts no backend work. A client that reads, however
   * slowly, is never refused (its streams' normal backpressure, 100 of them past 4 MiB, is not
   * counted). Each stream stops reading its backend stream once its own buffer is full
   * (backpressure) whatever this budget. Default: 4 MiB.
   */
  maxClientBufferBytes?: number;
  /**
   * Milliseconds a stream's replies may wait for a client that reads none of them (a zero-window
   * reader): then the stream is reset (RST_STREAM CANCEL to the client, CANCEL to the backend).
   * `0`: never. Default: 30 000.
   */
  clientStallTimeoutMs?: number;
  /**
   * Cancellations (RST_STREAM) the proxy sends one backend connection in a burst, refilled at
   * `backendResetsPerSecond`. A connection that runs out takes no new calls (they go on a
   * new connection) while its running calls finish, so a backend that counts resets per
   * connection (Node.js: 1 000, then 33 a second) never refuses other clients' calls for them.
   * Default: 500.
   */
  backendResetBurst?: number;
  /** Cancellations a second refilled to each backend connection's budget. Default: 30. */
  backendResetsPerSecond?: number;
}

/** {@link Http2ClientLimits} with their defaults; `Infinity` where `0` means none. */
export interface ResolvedClientLimits {
  readonly maxConcurrentStreams: number;
  /** Milliseconds; `0`: never. */
  readonly clientIdleTimeoutMs: number;
  /** `Infinity`: no limit. */
  readonly maxClientResetsPerSecond: number;
  readonly maxClientBufferBytes: number;
  /** Milliseconds; `0`: never. */
  readonly clientStallTimeoutMs: number;
  readonly backendResetBurst: number;
  readonly backendResetsPerSecond: number;
}

/** Applies the defaults; throws a `RangeError` naming a bad limit. */
export function resolveClientLimits(options: Http2ClientLimits): ResolvedClientLimits {
  return {
    ...resolveClientConnectionLimits(options),
    clientIdleTimeoutMs: integerOption(
      'clientIdleTimeoutMs',
      options.clientIdleTimeoutMs ?? DEFAULT_CLIENT_IDLE_TIMEOUT_MS,
      0,
    ),
    backendResetBurst: integerOption(
      'backendResetBurst',
      options.backendResetBurst ?? DEFAULT_BACKEND_RESET_BURST,
      1,
    ),
    backendResetsPerSecond: integerOption(
      'backendResetsPerSecond',
      options.backendResetsPerSecond ?? DEFAULT_BACKEND_RESETS_PER_SECOND,
      1,
    ),
  };
}
