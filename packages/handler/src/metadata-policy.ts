/**
 * The metadata policy: which keys travel between client and backend.
 *
 * Pure functions over key names plus in-place helpers over a grpc-js `Metadata`, so that a
 * second engine (on `node:http2`) can apply the same rules to raw header objects.
 */
import type { Metadata } from '@grpc/grpc-js';

/**
 * Hop-by-hop keys (RFC 9110 §7.6.1 and HTTP/2's connection-specific headers): they describe one
 * connection, never travel through a proxy, and Node's http2 refuses to send most of them (which
 * would fail the call).
 */
export const HOP_BY_HOP_KEYS: readonly string[] = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'host',
  'http2-settings',
];

/**
 * Keys grpc-js sets itself on every request or response (framing, compression, status). Copying
 * them as metadata would duplicate or contradict what the transport sends.
 */
export const TRANSPORT_KEYS: readonly string[] = [
  'content-type',
  'date',
  'grpc-encoding',
  'grpc-accept-encoding',
  'accept-encoding',
  'grpc-timeout',
  'grpc-status',
  'grpc-message',
];

/** Options of the metadata policy. */
export interface MetadataPolicyOptions {
  /**
   * Request keys removed before the call goes to the backend, e.g. routing keys only the
   * director needs. The director still sees them. Matched case-insensitively. Default: none.
   */
  stripKeys?: readonly string[];
  /**
   * Append the client's address to `x-forwarded-for` (comma-separated, as HTTP proxies do).
   * Default: `false`.
   */
  forwardedFor?: boolean;
  /** Set `x-forwarded-host` to the `:authority` the client called. Default: `false`. */
  forwardedHost?: boolean;
}

/** A policy ready to apply per call: lists computed once. */
export interface CompiledMetadataPolicy {
  /** Keys removed from the incoming request before the director sees it. */
  readonly incomingDrop: readonly string[];
  /** Keys removed after the director (the above plus the strip list), before the backend call. */
  readonly outgoingDrop: readonly string[];
  /** Keys removed from response headers and trailers. */
  readonly responseDrop: readonly string[];
  /** Whether `x-forwarded-for` is appended to. */
  readonly forwardedFor: boolean;
  /** Whether `x-forwarded-host` is set. */
  readonly forwardedHost: boolean;
}

const LEGAL_KEY = /^[0-9a-z_.-]+$/;
const LEGAL_TEXT_VALUE = /^[ -~]*$/;

/** Whether grpc-js accepts `key` as a metadata key. */
export function isValidMetadataKey(key: string): boolean {
  return LEGAL_KEY.test(key);
}

/** Whether grpc-js (and HTTP/2) accept `value` for `key`: binary keys (`-bin`) take any bytes, others printable ASCII. */
export function isValidMetadataValue(key: string, value: string | Buffer): boolean {
  if (key.endsWith('-bin')) return Buffer.isBuffer(value);
  return typeof value === 'string' && LEGAL_TEXT_VALUE.test(value);
}

/** Compiles {@link MetadataPolicyOptions} once; the result is shared by all calls. */
export function compileMetadataPolicy(options: MetadataPolicyOptions = {}): CompiledMetadataPolicy {
  const strip = (options.stripKeys ?? []).map((key) => key.toLowerCase());
  return {
    incomingDrop: [...HOP_BY_HOP_KEYS, ...TRANSPORT_KEYS],
    // Hop-by-hop and transport keys again: the director may have added some to `call.metadata`.
    outgoingDrop: [...HOP_BY_HOP_KEYS, ...TRANSPORT_KEYS, ...strip],
    responseDrop: [...HOP_BY_HOP_KEYS, ...TRANSPORT_KEYS],
    forwardedFor: options.forwardedFor ?? false,
    forwardedHost: options.forwardedHost ?? false,
  };
}

/**
 * The verdicts of {@link isForwardedRequestKey} per policy and key: the same few keys come with
 * every call. Capped, since keys are the client's choice.
 */
const requestKeyVerdicts = new WeakMap<CompiledMetadataPolicy, Map<string, boolean>>();
const MAX_REMEMBERED_KEYS = 256;

/** Whether a request key reaches the backend under `policy` (for engines that work on raw headers). */
export function isForwardedRequestKey(policy: CompiledMetadataPolicy, key: string): boolean {
  let verdicts = requestKeyVerdicts.get(policy);
  const known = verdicts?.get(key);
  if (known !== undefined) return known;
  const lower = key.toLowerCase();
  const forwarded =
    isValidMetadataKey(lower) &&
    !policy.incomingDrop.includes(lower) &&
    !policy.outgoingDrop.includes(lower);
  if (verdicts === undefined) requestKeyVerdicts.set(policy, (verdicts = new Map()));
  if (verdicts.size < MAX_REMEMBERED_KEYS) verdicts.set(key, forwarded);
  return forwarded;
}

/** Whether a response header or trailer key reaches the client under `policy`. */
export function isForwardedResponseKey(policy: CompiledMetadataPolicy, key: string): boolean {
  const lower = key.toLowerCase();
  return isValidMetadataKey(lower) && !policy.responseDrop.includes(lower);
}

function removeKeys(metadata: Metadata, keys: readonly string[]): void {
  for (let i = 0; i < keys.length; i++) metadata.remove(keys[i]);
}

/** Removes hop-by-hop and transport keys from incoming request metadata, in place. */
export function filterIncomingMetadata(
  metadata: Metadata,
  policy: CompiledMetadataPolicy,
): Metadata {
  removeKeys(metadata, policy.incomingDrop);
  return metadata;
}

/** What the forwarding headers are made of. */
export interface ForwardingInfo {
  /** Client address, `host:port` or `[v6]:port` or a bare address. */
  readonly peer: string;
  /** The `:authority` the client called. */
  readonly authority: string;
}

/** The address part of a grpc-js peer string (`127.0.0.1:5000` → `127.0.0.1`, `[::1]:5000` → `::1`). */
export function peerAddress(peer: string): string {
  const address = peer.replace(/^ipv[46]:/, '');
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed) return bracketed[1];
  // grpc-js writes `${remoteAddress}:${remotePort}`, also for IPv6: drop a trailing port.
  const withPort = /^(.+):\d+$/.exec(address);
  return withPort && withPort[1].length > 1 ? withPort[1] : address;
}

function setIfValid(metadata: Metadata, key: string, value: string): void {
  if (isValidMetadataValue(key, value)) metadata.set(key, value);
}

/**
 * Applies the part of the policy that comes after the director (strip list, forwarding headers),
 * in place, and returns the same object. Entries that would be rejected are skipped, never thrown.
 */
export function finishOutgoingMetadata(
  metadata: Metadata,
  policy: CompiledMetadataPolicy,
  info: ForwardingInfo,
): Metadata {
  removeKeys(metadata, policy.outgoingDrop);
  if (policy.forwardedFor) {
    const address = peerAddress(info.peer);
    const previous = metadata.get('x-forwarded-for').filter((value) => typeof value === 'string');
    setIfValid(metadata, 'x-forwarded-for', [...previous, address].join(', '));
  }
  if (policy.forwardedHost && info.authority)
    setIfValid(metadata, 'x-forwarded-host', info.authority);
  return metadata;
}

/**
 * Makes metadata the director built itself safe to send: hop-by-hop and transport keys removed
 * (they would fail the call in Node's http2), in place.
 */
export function sanitizeRouteMetadata(metadata: Metadata): Metadata {
  removeKeys(metadata, HOP_BY_HOP_KEYS);
  removeKeys(metadata, TRANSPORT_KEYS);
  return metadata;
}

/** Removes hop-by-hop, transport and status keys from response headers or trailers, in place. */
export function filterResponseMetadata(
  metadata: Metadata,
  policy: CompiledMetadataPolicy,
): Metadata {
  removeKeys(metadata, policy.responseDrop);
  return metadata;
}
