import { status, type Metadata, type StatusObject } from '@grpc/grpc-js';

/**
 * The messages of the statuses grpc-js makes up on the client side when a call ends without the
 * backend's trailers: read from the sources of grpc-js 1.14.7 (subchannel-call.ts,
 * load-balancing-call.ts, resolving-call.ts, compression-filter.ts, stream-decoder.ts), and
 * all present in those of 1.11.4 (the floor of the peer range, `^1.11.0`); `local-status.spec.ts`
 * has a row for each pattern. They come with empty metadata, and nothing else in the status
 * object tells them from a backend status: grpc-js hands both to the listener the same way. Each
 * matches at the start of the message.
 */
export const GRPC_JS_LOCAL_PATTERNS: readonly string[] = [
  // The backend's connection closed (socket closed, GOAWAY, process killed).
  'Connection dropped$',
  '(?:read|write) (?:ECONNRESET|ETIMEDOUT)',
  // The backend reset the stream, or ended it without trailers.
  'Received RST_STREAM with code \\d',
  'Call cancelled$',
  'Stream refused by server$',
  'Bandwidth exhausted or memory limit exceeded$',
  'Protocol not secure enough$',
  // Trailers without grpc-status, or an HTTP error instead of a gRPC response.
  'No status information received$',
  'Received HTTP status code \\d',
  // Writing to the backend, reading its messages, the route's own deadline.
  'Write (?:error|failed with error)',
  'Failed to start HTTP/2 stream',
  'Received message larger than max',
  'Received message that decompresses to a size larger than',
  'Failed to decompress',
  'Deadline exceeded after ',
];

const GRPC_JS_LOCAL_DETAILS = new RegExp(`^(?:${GRPC_JS_LOCAL_PATTERNS.join('|')})`);

function isEmpty(metadata: Metadata): boolean {
  for (const _key in metadata.getMap()) return false;
  return true;
}

/**
 * True when `backendStatus` was made up by grpc-js on the proxy's side instead of being sent by
 * the backend — the proxy's own failure (rule 4), to be reported as such.
 *
 * - Before any response headers, a status without metadata never came from the backend (a
 *   trailers-only response always carries at least `content-type`).
 * - After the headers, a status with empty metadata whose message is one of grpc-js's own local
 *   messages (connection dropped, stream reset, call ended without trailers, ...) is grpc-js's.
 *   A backend that sends exactly such a message with no trailers is taken for grpc-js: the code
 *   is kept, only the message gains the proxy's prefix.
 *
 * An `OK` status is always the backend's.
 */
export function isLocalStatus(backendStatus: StatusObject, afterHeaders: boolean): boolean {
  if (backendStatus.code === status.OK) return false;
  const metadata = backendStatus.metadata;
  const empty = metadata === undefined || isEmpty(metadata);
  if (!afterHeaders) return empty;
  // grpc-js keeps the trailers it got when they lacked grpc-status.
  if (backendStatus.details === 'No status information received') return true;
  return empty && GRPC_JS_LOCAL_DETAILS.test(backendStatus.details);
}

/** grpc-js's `progress` of an attempt that never reached the backend's application. */
const UNPROCESSED_PROGRESS: ReadonlySet<unknown> = new Set(['REFUSED', 'NOT_STARTED', 'DROP']);
/** HTTP/2 `REFUSED_STREAM`: the server did not process the stream (also a stream beyond a GOAWAY). */
const NGHTTP2_REFUSED_STREAM = 7;
/**
 * The local statuses of attempts that never reached the application: a refused stream (also a
 * stream beyond a GOAWAY's last stream id, which Node resets with `REFUSED_STREAM`), seen by the
 * stream's close or by a write still pending then; no connection to pick (`pick_first`'s message,
 * or `round_robin: ...` for a channel configured so); a stream that could not be opened.
 * `unprocessed-status.spec.ts` checks that grpc-js still says so.
 */
const UNPROCESSED_DETAILS = new RegExp(
  '^(?:' +
    [
      'Stream refused by server$',
      'Write error: Stream closed with error code NGHTTP2_REFUSED_STREAM$',
      '(?:\\w+: )?No connection established',
      'Failed to start HTTP/2 stream',
    ].join('|') +
    ')',
);

/**
 * True when `backendStatus`, a status grpc-js made up before any response headers, says that the
 * backend never processed the attempt: sending it again elsewhere is safe (HTTP/2's own rule for
 * `REFUSED_STREAM`). grpc-js's own `progress` and `rstCode` are used when they reach the listener
 * (they do in grpc-js 1.11, not in 1.14, whose retry layer strips them); the message otherwise.
 * Never true after headers, for a dropped connection, another stream reset, or a deadline.
 */
export function isUnprocessed(backendStatus: StatusObject, afterHeaders: boolean): boolean {
  if (afterHeaders || !isLocalStatus(backendStatus, false)) return false;
  const { progress, rstCode } = backendStatus as StatusObject & {
    progress?: unknown;
    rstCode?: unknown;
  };
  return (
    UNPROCESSED_PROGRESS.has(progress) ||
    rstCode === NGHTTP2_REFUSED_STREAM ||
    UNPROCESSED_DETAILS.test(backendStatus.details)
  );
}

/** A backend call's status as the proxy's own failure (see {@link backendFailure}). */
export interface BackendFailure {
  readonly code: status;
  /** Names the proxy and the backend. */
  readonly details: string;
  /** The backend never processed the call (see {@link isUnprocessed}): `UNAVAILABLE`. */
  readonly unprocessed: boolean;
}

/**
 * `backendStatus` as the proxy's own failure when grpc-js made it up ({@link isLocalStatus}):
 * `<proxyName>: backend <name> unavailable|failed: [not connected within N ms: ]<details>`,
 * `UNAVAILABLE` when the backend never processed the call. `undefined` for the backend's own.
 */
export function backendFailure(
  backendStatus: StatusObject,
  afterHeaders: boolean,
  proxyName: string,
  backendName: string,
  notConnectedWithinMs: number | undefined,
): BackendFailure | undefined {
  if (!isLocalStatus(backendStatus, afterHeaders)) return undefined;
  const unprocessed = isUnprocessed(backendStatus, afterHeaders);
  const code = unprocessed ? status.UNAVAILABLE : backendStatus.code;
  const reason = code === status.UNAVAILABLE ? 'unavailable' : 'failed';
  const waited =
    notConnectedWithinMs === undefined ? '' : `not connected within ${notConnectedWithinMs} ms: `;
  const details = `${proxyName}: backend ${backendName} ${reason}: ${waited}${backendStatus.details}`;
  return { code, details, unprocessed };
}
