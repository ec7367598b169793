/**
 * HTTP/2 header blocks of a proxied call: the request sent to the backend (the metadata policy
 * applied to raw headers), the status the proxy itself sends, and what it reads from trailers.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import type { Metadata } from '@grpc/grpc-js';
import type { Route } from '@grpc-proxy/handler';
import {
  HOP_BY_HOP_KEYS,
  finishOutgoingMetadata,
  sanitizeRouteMetadata,
  isForwardedRequestKey,
  isValidMetadataValue,
  peerAddress,
  type CompiledMetadataPolicy,
  type ForwardingInfo,
} from '@grpc-proxy/handler/engine';

/**
 * Transport headers the engine passes itself: the backend gets the client's content type and
 * compression, because the messages travel as the client framed (and compressed) them.
 */
const PASSED_TRANSPORT_KEYS = ['content-type', 'grpc-encoding', 'grpc-accept-encoding'] as const;

/** Whether a request is gRPC by its content type (PROTOCOL-HTTP2.md, "Content-Type"). */
export function isGrpcContentType(value: string | string[] | undefined): boolean {
  return typeof value === 'string' && value.startsWith('application/grpc');
}

/** The pseudo and transport headers of the backend request, before any metadata. */
function callDefinition(incoming: IncomingHttpHeaders, authority: string): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {
    ':method': 'POST',
    ':scheme': 'http',
    ':path': incoming[':path'],
    ':authority': authority,
    te: 'trailers',
  };
  for (const key of PASSED_TRANSPORT_KEYS) {
    const value: string | string[] | undefined = incoming[key];
    if (value !== undefined) headers[key as string] = value;
  }
  return headers;
}

/**
 * The backend request when nobody changed the metadata: the client's own header fields that the
 * policy forwards (by reference, no base64 round trip), plus the forwarding headers it asks for.
 */
export function requestHeaders(
  incoming: IncomingHttpHeaders,
  policy: CompiledMetadataPolicy,
  info: ForwardingInfo,
  authority: string,
): OutgoingHttpHeaders {
  const headers = callDefinition(incoming, authority);
  for (const key in incoming) {
    if (key.charCodeAt(0) !== 0x3a /* ':' */ && isForwardedRequestKey(policy, key)) {
      headers[key] = incoming[key];
    }
  }
  if (policy.forwardedFor) {
    const previous = incoming['x-forwarded-for'];
    const address = peerAddress(info.peer);
    const value = typeof previous === 'string' ? `${previous}, ${address}` : address;
    if (isValidMetadataValue('x-forwarded-for', value)) headers['x-forwarded-for'] = value;
  }
  if (policy.forwardedHost && info.authority) {
    if (isValidMetadataValue('x-forwarded-host', info.authority)) {
      headers['x-forwarded-host'] = info.authority;
    }
  }
  return headers;
}

/** The backend request carrying `metadata` (already through the policy) instead of the client's. */
export function requestHeadersFromMetadata(
  incoming: IncomingHttpHeaders,
  metadata: Metadata,
  authority: string,
): OutgoingHttpHeaders {
  return Object.assign(callDefinition(incoming, authority), metadata.toHttp2Headers());
}

/** The incoming call as the backend request needs it. */
export interface RequestSource extends ForwardingInfo {
  readonly headers: IncomingHttpHeaders;
  /** Whether `metadata` was read by the director (so it may have been changed). */
  readonly metadataTouched: boolean;
  readonly metadata: Metadata;
}

/**
 * The backend request of a call: with the route's own metadata, or the metadata the director
 * read (and may have changed), else straight from the client's header fields.
 */
export function backendRequestHeaders(
  route: Route,
  incoming: RequestSource,
  policy: CompiledMetadataPolicy,
  authority: string,
): OutgoingHttpHeaders {
  if (route.metadata) {
    const metadata = sanitizeRouteMetadata(route.metadata);
    return requestHeadersFromMetadata(incoming.headers, metadata, authority);
  }
  if (incoming.metadataTouched) {
    const metadata = finishOutgoingMetadata(incoming.metadata, policy, incoming);
    return requestHeadersFromMetadata(incoming.headers, metadata, authority);
  }
  return requestHeaders(incoming.headers, policy, incoming, authority);
}

/** Removes connection-specific fields from a response block from the backend, in place. */
export function dropHopByHop(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  for (const key of HOP_BY_HOP_KEYS) if (key in headers) delete headers[key];
  return headers;
}

/** The trailers of a status the proxy sends itself (`grpc-message` percent-encoded, as grpc-js does). */
export function statusTrailers(
  code: number,
  details: string,
  metadata: Metadata | undefined,
): OutgoingHttpHeaders {
  const trailers: OutgoingHttpHeaders = metadata === undefined ? {} : metadata.toHttp2Headers();
  trailers['grpc-status'] = String(code);
  if (details !== '') trailers['grpc-message'] = encodeURI(details);
  return trailers;
}

/** The gRPC code of a trailer block (`UNKNOWN` = 2 when missing or malformed, as clients read it). */
export function trailerCode(trailers: IncomingHttpHeaders | OutgoingHttpHeaders): number {
  const value = trailers['grpc-status'];
  const code = typeof value === 'string' ? Number(value) : NaN;
  return Number.isInteger(code) && code >= 0 ? code : 2;
}

/** The decoded `grpc-message` of a trailer block ('' when missing; raw when not decodable). */
export function trailerMessage(trailers: IncomingHttpHeaders | OutgoingHttpHeaders): string {
  const value = trailers['grpc-message'];
  if (typeof value !== 'string') return '';
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
