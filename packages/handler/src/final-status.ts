import type { ServerHttp2Stream } from 'node:http2';
import { Metadata, status, type Deadline, type StatusObject } from '@grpc/grpc-js';
import { ProxyStatusError } from './status-error';

/** How near the deadline a client reset counts as the deadline expiring. */
const DEADLINE_SLACK_MS = 100;

/** The status of a call whose client left before it ended: a cancellation, or its deadline. */
export function clientLeftStatus(deadline: Deadline): StatusObject {
  // The client's own deadline timer resets the stream at about the same moment as ours fires
  // (ours started when the headers arrived, so it is a little late): a close this near the
  // deadline is the deadline, not a cancellation.
  const expired = deadline !== Infinity && +deadline - Date.now() <= DEADLINE_SLACK_MS;
  return expired
    ? deadlineExceededStatus()
    : { code: status.CANCELLED, details: 'Cancelled by client', metadata: new Metadata() };
}

/** The status of a call whose own deadline passed: what grpc-js servers send then. */
export function deadlineExceededStatus(): StatusObject {
  return { code: status.DEADLINE_EXCEEDED, details: 'Deadline exceeded', metadata: new Metadata() };
}

/**
 * What a grpc-js server stream emits as `'error'` to end with `final`: the documented way to end
 * it with a status (the status then follows the messages already queued). With a `cause`, a
 * {@link ProxyStatusError} that keeps it; without, a plain object (no stack trace to capture).
 */
export function endingError(final: StatusObject, cause: unknown): object {
  if (cause !== undefined) {
    return new ProxyStatusError(final.code, final.details, final.metadata, { cause });
  }
  const { code, details, metadata } = final;
  return { code, details, message: details, metadata };
}

/**
 * The status grpc-js itself sent on `http2Stream` (its deadline timer, a message over the
 * server's receive limit), read from the headers or trailers it wrote; `undefined` when none was
 * sent or the http2 stream is unknown (./http2-stream-of.ts).
 */
export function sentStatus(http2Stream: ServerHttp2Stream | undefined): StatusObject | undefined {
  if (http2Stream === undefined) return undefined;
  const sent = http2Stream.sentTrailers ?? http2Stream.sentHeaders;
  const code = Number(sent?.['grpc-status'] ?? NaN);
  if (!Number.isInteger(code) || code === status.OK) return undefined;
  const message = sent?.['grpc-message'];
  let details = typeof message === 'string' ? message : '';
  try {
    details = decodeURI(details);
  } catch {
    // grpc-js encodes it with encodeURI: anything else is passed as it came.
  }
  return { code: code as status, details, metadata: new Metadata() };
}
