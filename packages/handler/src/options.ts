import type { CallObserver } from './contracts';
import {
  compileMetadataPolicy,
  type CompiledMetadataPolicy,
  type MetadataPolicyOptions,
} from './metadata-policy';

/** 64 MiB: the default size limit for one message, each way, on both legs. */
export const DEFAULT_MAX_MESSAGE_LENGTH = 64 * 1024 * 1024;

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
   * Name used as the prefix of status messages produced by the proxy itself, so that they are
   * told apart from backend statuses. Default: `'grpc-proxy'`.
   */
  proxyName?: string;
}

/** Options after defaults (`Infinity` for no limit); computed once per handler, never per call. */
export interface ResolvedHandlerOptions {
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
  /** Prefix of the proxy's own status messages. */
  readonly proxyName: string;
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
  return {
    maxReceiveMessageLength: checkLength(
      'maxReceiveMessageLength',
      options.maxReceiveMessageLength,
    ),
    maxSendMessageLength: checkLength('maxSendMessageLength', options.maxSendMessageLength),
    policy: compileMetadataPolicy(options.metadata),
    observer: options.observer,
    directorTimeoutMs,
    proxyName: options.proxyName ?? 'grpc-proxy',
  };
}

/** A length limit as grpc-js channel/server options spell it (`-1` = unlimited). */
export function grpcLengthOption(limit: number): number {
  return limit === Infinity || limit < 0 ? -1 : limit;
}
