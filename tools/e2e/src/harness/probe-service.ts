import {
  Client,
  credentials,
  type ChannelCredentials,
  type ServiceDefinition,
} from '@grpc/grpc-js';

/** Full name of the service the e2e backend serves (raw bytes, no schema needed). */
const PROBE_SERVICE = 'e2e.Probe';

const identity = (value: Buffer): Buffer => value;

function method(name: string, requestStream: boolean, responseStream: boolean) {
  return {
    path: `/${PROBE_SERVICE}/${name}`,
    requestStream,
    responseStream,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  };
}

/**
 * The e2e backend's methods. Payloads are opaque bytes, so the proxy in the middle can be any
 * transparent proxy, and a raw `node:http2` client can call them with hand-made frames.
 *
 * - `Unary`: answers with the request bytes; with request metadata `x-fail-code` (and optional
 *   `x-fail-message`) it fails with that status instead.
 * - `Bidi`: answers every message with the same bytes; ends OK when the client half-closes.
 * - `Hang`: never answers; reports its cancellation on the backend's event log.
 * - `Flood`: the request is JSON `{ totalBytes, chunkBytes }`; streams that many bytes back,
 *   honouring backpressure.
 * - `Metadata`: answers with the request metadata as JSON (`Metadata.toJSON()`).
 */
export const probeService = {
  Unary: method('Unary', false, false),
  Bidi: method('Bidi', true, true),
  Hang: method('Hang', true, true),
  Flood: method('Flood', false, true),
  Metadata: method('Metadata', false, false),
} satisfies ServiceDefinition;

/** Request of the `Flood` method. */
export interface FloodRequest {
  totalBytes: number;
  chunkBytes: number;
}

/** A raw-bytes client of the probe service (a plain grpc-js `Client` with the paths above). */
export function probeClient(
  address: string,
  channelCredentials: ChannelCredentials = credentials.createInsecure(),
  options: Record<string, unknown> = {},
): Client {
  return new Client(address, channelCredentials, {
    'grpc.max_receive_message_length': -1,
    'grpc.max_send_message_length': -1,
    ...options,
  });
}
