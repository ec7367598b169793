import { DEFAULT_MAX_MESSAGE_LENGTH } from '@grpc-proxy/codec';
import type { CallObserver } from './contracts';
import { DEFAULT_MIRROR_HEADER, DEFAULT_MIRROR_TIMEOUT_MS } from './mirror-routes';
import {
  compileMetadataPolicy,
  isValidMetadataKey,
  type CompiledMetadataPolicy,
  type MetadataPolicyOptions,
} from './metadata-policy';

/** 1 000 ms: how long a call waits by default for a backend channel that failed to connect. */
const DEFAULT_BACKEND_CONNECT_TIMEOUT_MS = 1000;

/** 100: calls one client connection runs at once by default (nginx: 128, haproxy: 100). */
export const DEFAULT_MAX_CONCURRENT_STREAMS = 100;

/** 2^32 - 1: the largest `SETTINGS_MAX_CONCURRENT_STREAMS`. */
const MAX_SETTING = 2 ** 32 - 1;

/**
 * 200: calls one client connection may cancel before their answer within one second, beyond as
 * many as it let finish, by default (the http2 engine's `maxClientResetsPerSecond` default): twice
 * the 100 streams a connection runs at once, so that a client cancelling all it has in flight,
 * twice in a second, is not cut; a rapid-reset attack (CVE-2023-44487) resets thousands a second.
 */
export const DEFAULT_MAX_CLIENT_RESETS_PER_SECOND = 200;

/**
 * 4 MiB: bytes held for one client connection that does not read (its flow-control windows hold
 * them back), past which it may start no new call, by default (both engines).
 */
export const DEFAULT_MAX_CLIENT_BUFFER_BYTES = 4_194_304;

/** 30 000 ms: how long a call's replies may wait for a client that reads none of them, by default. */
export const DEFAULT_CLIENT_STALL_TIMEOUT_MS = 30_000;

/** Options of the proxy engine, shared by `transparentHandler`, `registerService`, `serveUnknownServices` and `createProxyServer`. */
export interface ProxyHandlerOptions {
  /**
   * Largest message accepted from the client, in bytes (payload, without framing). A bigger one
   * ends the call with `RESOURCE_EXHAUSTED`. Also applied as the server's
   * `grpc.max_receive_message_length` by `createProxyServer` / `proxyServerOptions`, and as the
   * backend channel's `grpc.max_send_message_length` by `proxyChannelOptions`.
   * Default: 64 MiB (grpc-js alone would cap receives at 4 MiB).
   */
  maxReceiveMessageLength?: number;
  /**
   * Largest message sent to the client, in bytes. A bigger one from the backend ends the call
   * with `RESOURCE_EXHAUSTED`. Also applied as the server's `grpc.max_send_message_length` and as
   * the backend channel's `grpc.max_receive_message_length` by the option helpers.
   * Default: 64 MiB.
   */
  maxSendMessageLength?: number;
  /** How request metadata is copied to the backend. Default: see {@link MetadataPolicyOptions}. */
  metadata?: MetadataPolicyOptions;
  /** Per-call observer (metrics, logs). Default: none, and then no per-call bookkeeping at all. */
  observer?: CallObserver;
  /**
   * Milliseconds the director may take to choose a route before the call ends with
   * `UNAVAILABLE`. Default: no separate limit — the call's own deadline bounds the director.
   */
  directorTimeoutMs?: number;
  /**
   * Milliseconds a call waits for its backend channel to connect again when the channel is in
   * `TRANSIENT_FAILURE` at call start (grpc-js would fail the call at once on the strength of the
   * last failed attempt, even when the backend is back). The channel reconnects by itself, with
   * the reconnect backoff of `proxyChannelOptions` (at most 500 ms apart by default, well
   * inside this window). Still not connected after that time: the call ends with `UNAVAILABLE`
   * `grpc-proxy: backend <name> unavailable: not connected within <n> ms: <grpc-js's last
   * error>`. Never beyond the call's deadline (or the route's): reaching it ends the call
   * `DEADLINE_EXCEEDED`. A channel that is `READY`, `IDLE` or
   * `CONNECTING` is not waited for (grpc-js queues the call during a connection attempt and
   * fails it at once if that attempt fails). `0`: never wait. Default: 1 000 ms.
   */
  backendConnectTimeoutMs?: number;
  /**
   * Name used as the prefix of status messages produced by the proxy itself, so that they are
   * told apart from backend statuses. Default: `'grpc-proxy'`.
   */
  proxyName?: string;
  /**
   * The header (value `1`) added to every mirrored copy of a call (`Route.mirror`), so backends
   * can tell shadow traffic. A valid metadata key, not `grpc-`. Default: `x-grpc-proxy-mirror`.
   */
  mirrorHeader?: string;
  /**
   * Milliseconds a mirrored copy may run on after its call ended before it is cancelled
   * (`dropped`); it never holds the call. `0`: cancelled when the call ends. Default: 10 000.
   */
  mirrorTimeoutMs?: number;
  /**
   * Calls one client connection may run at once (director asked, backend call open). Its further
   * calls wait, in order, until one of its calls ends; no director and no backend hears of them
   * meanwhile, and a client's deadline or cancel still ends them. `createProxyServer` /
   * `proxyServerOptions` announce twice this as `grpc.max_concurrent_streams`
   * (`SETTINGS_MAX_CONCURRENT_STREAMS`; `serverOptions` may set another), past which Node refuses
   * streams: announcing this limit itself would fail calls, since Node frees the slot of a stream
   * the client reset a moment late and refuses the client's next stream meanwhile. Default: 100.
   */
  maxConcurrentStreams?: number;
  /**
   * Calls one client connection may cancel (RST_STREAM) before their answer (response headers or
   * status) within one second, beyond as many as it let finish in that second, so a client
   * cancelling part of its calls is never cut. One more (the rapid-reset pattern,
   * CVE-2023-44487) and the connection gets GOAWAY(ENHANCE_YOUR_CALM) and is closed, its calls
   * with it; where grpc-js's internals do not give the connection, its new calls fail at once with
   * `RESOURCE_EXHAUSTED` for the rest of that second instead. A cancel at 90 % of the call's
   * deadline or later is the deadline and is not counted. `0`: no limit. Default: 200.
   */
  maxClientResetsPerSecond?: number;
  /**
   * Bytes one client connection's stalled calls hold: replies written towards the client and not
   * yet sent, in calls none of whose replies was sent for two sweeps (each a quarter of
   * `clientStallTimeoutMs`, from 25 ms to 1 s; 1 s without it). While they hold more, its new
   * calls are refused before any director or backend hears of them: RST_STREAM REFUSED_STREAM,
   * which clients may retry (grpc-js does, once, transparently), or `RESOURCE_EXHAUSTED` where
   * grpc-js's internals do not give the stream. A client that reads, however slowly, is never
   * refused: grpc-js holds up to 16 messages per call under normal backpressure, counted only once
   * their call stalls. Each call stops reading its backend call while its client does not take its replies
   * (backpressure), whatever this budget. Default: 4 MiB.
   */
  maxClientBufferBytes?: number;
  /**
   * Milliseconds a call's replies may wait for a client that takes none of them (a zero-window
   * reader): then the client's stream is reset (RST_STREAM CANCEL, which a grpc-js client reports
   * as `CANCELLED`) and the backend call cancelled, as on the http2 engine. `0`: never.
   * Default: 30 000.
   */
  clientStallTimeoutMs?: number;
}

/** Options after defaults (`Infinity` for no limit); computed once per handler, never per call. */
export interface ResolvedHandlerOptions extends ResolvedClientConnectionLimits {
  /** Bytes; `Infinity` when unlimited. */
  readonly maxReceiveMessageLength: number;
  /** Bytes; `Infinity` when unlimited. */
  readonly maxSendMessageLength: number;
  /** The compiled metadata policy. */
  readonly policy: CompiledMetadataPolicy;
  /** The observer, if any. */
  readonly observer: CallObserver | undefined;
  /** Milliseconds; `Infinity` when the call's deadline is the only limit. */
  readonly directorTimeoutMs: number;
  /** Milliseconds; `0` when calls never wait for a failed backend channel. */
  readonly backendConnectTimeoutMs: number;
  /** Prefix of the proxy's own status messages. */
  readonly proxyName: string;
  /** Header name (lowercase) marking mirrored copies. */
  readonly mirrorHeader: string;
  /** Milliseconds. */
  readonly mirrorTimeoutMs: number;
}

/** The limits per client connection both engines apply, after defaults. */
export interface ResolvedClientConnectionLimits {
  /** Calls run at once per client connection. */
  readonly maxConcurrentStreams: number;
  /** `Infinity`: no limit. */
  readonly maxClientResetsPerSecond: number;
  /** Bytes. */
  readonly maxClientBufferBytes: number;
  /** Milliseconds; `0`: never. */
  readonly clientStallTimeoutMs: number;
}

/** `value` if it is an integer from `min` to `max`; else a `RangeError` naming the option. */
export function integerOption(
  name: string,
  value: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

function mirrorHeaderOption(name: string | undefined): string {
  const key = (name ?? DEFAULT_MIRROR_HEADER).toLowerCase();
  if (!isValidMetadataKey(key) || key.startsWith('grpc-') || key.endsWith('-bin')) {
    throw new RangeError(
      `mirrorHeader must be a metadata key not starting with grpc- nor ending -bin, got ${name}`,
    );
  }
  return key;
}

function checkLength(name: string, value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_MESSAGE_LENGTH;
  if (value === -1) return Infinity;
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(
      `${name} must be a non-negative integer (or -1 for no limit), got ${value}`,
    );
  }
  return value;
}

/** Applies the defaults and validates the options; throws a `RangeError` naming a bad option. */
export function resolveHandlerOptions(options: ProxyHandlerOptions = {}): ResolvedHandlerOptions {
  const directorTimeoutMs = options.directorTimeoutMs ?? Infinity;
  if (!(directorTimeoutMs > 0)) {
    throw new RangeError(
      `directorTimeoutMs must be a positive number, got ${options.directorTimeoutMs}`,
    );
  }
  const backendConnectTimeoutMs =
    options.backendConnectTimeoutMs ?? DEFAULT_BACKEND_CONNECT_TIMEOUT_MS;
  if (!Number.isFinite(backendConnectTimeoutMs) || backendConnectTimeoutMs < 0) {
    throw new RangeError(
      `backendConnectTimeoutMs must be a finite number >= 0, got ${options.backendConnectTimeoutMs}`,
    );
  }
  return {
    maxReceiveMessageLength: checkLength(
      'maxReceiveMessageLength',
      options.maxReceiveMessageLength,
    ),
    maxSendMessageLength: checkLength('maxSendMessageLength', options.maxSendMessageLength),
    policy: compileMetadataPolicy(options.metadata),
    observer: options.observer,
    directorTimeoutMs,
    backendConnectTimeoutMs,
    proxyName: options.proxyName ?? 'grpc-proxy',
    mirrorHeader: mirrorHeaderOption(options.mirrorHeader),
    mirrorTimeoutMs: integerOption(
      'mirrorTimeoutMs',
      options.mirrorTimeoutMs ?? DEFAULT_MIRROR_TIMEOUT_MS,
      0,
    ),
    ...resolveClientConnectionLimits(options),
  };
}

/**
 * Applies the defaults of the limits per client connection (shared by both engines); throws a
 * `RangeError` naming a bad one.
 */
export function resolveClientConnectionLimits(
  options: Pick<
    ProxyHandlerOptions,
    | 'maxConcurrentStreams'
    | 'maxClientResetsPerSecond'
    | 'maxClientBufferBytes'
    | 'clientStallTimeoutMs'
  >,
): ResolvedClientConnectionLimits {
  const resets = integerOption(
    'maxClientResetsPerSecond',
    options.maxClientResetsPerSecond ?? DEFAULT_MAX_CLIENT_RESETS_PER_SECOND,
    0,
  );
  return {
    maxConcurrentStreams: integerOption(
      'maxConcurrentStreams',
      options.maxConcurrentStreams ?? DEFAULT_MAX_CONCURRENT_STREAMS,
      1,
      MAX_SETTING,
    ),
    maxClientResetsPerSecond: resets === 0 ? Infinity : resets,
    maxClientBufferBytes: integerOption(
      'maxClientBufferBytes',
      options.maxClientBufferBytes ?? DEFAULT_MAX_CLIENT_BUFFER_BYTES,
      1,
    ),
    clientStallTimeoutMs: integerOption(
      'clientStallTimeoutMs',
      options.clientStallTimeoutMs ?? DEFAULT_CLIENT_STALL_TIMEOUT_MS,
      0,
    ),
  };
}

/**
 * What a grpc-js server announces for `maxConcurrentStreams` calls run at once: twice it, room
 * for a well-behaved client's next streams while Node frees reset ones. Not ten times as the
 * http2 engine: every stream Node accepts costs grpc-js a call object before the handler can
 * queue it, and a flood of 1 000 per connection took 0.9 s to cut and raised other clients'
 * p99 to 0.9 s (200: cut within 0.25 s, p99 under 0.12 s).
 */
export function announcedStreams(maxConcurrentStreams: number): number {
  return Math.min(MAX_SETTING, maxConcurrentStreams * 2);
}

/** A length limit as grpc-js channel/server options spell it (`-1` = unlimited). */
export function grpcLengthOption(limit: number): number {
  return limit === Infinity || limit < 0 ? -1 : limit;
}
