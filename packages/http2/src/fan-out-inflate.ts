import { kMaxLength } from 'node:buffer';
import { gunzipSync, inflateSync } from 'node:zlib';
import { status } from '@grpc/grpc-js';

/** The inflaters of the encodings grpc-js has (gzip, deflate). */
const INFLATERS: Record<string, typeof gunzipSync | undefined> = {
  gzip: gunzipSync,
  deflate: inflateSync,
};

/**
 * A fan-out leg's message that came compressed although the leg was asked for `identity` (some
 * servers answer in the request's encoding): inflated, so that messages of several legs can share
 * one stream and one merge. Synchronous, so that a leg's messages keep their order; bounded by
 * the send limit. Returns the payload, or the leg's failure (without the proxy's prefix).
 */
export function inflateLegMessage(
  payload: Buffer,
  encoding: string,
  backend: string,
  limit: number,
): Buffer | { code: status; details: string } {
  const inflater = INFLATERS[encoding];
  const failure = {
    code: status.INTERNAL,
    details: `backend ${backend} failed: cannot decompress its ${encoding} message`,
  };
  if (inflater === undefined) return failure;
  try {
    return inflater(payload, { maxOutputLength: Math.max(1, Math.min(limit, kMaxLength)) });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE') return failure;
    return {
      code: status.RESOURCE_EXHAUSTED,
      details: `message from backend ${backend} decompresses to more than maxSendMessageLength (${limit})`,
    };
  }
}
