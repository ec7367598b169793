/** Identity serializers: payloads stay the `Buffer` grpc-js framed or unframed, never parsed or copied. */
export function serializeRaw(message: Buffer): Buffer {
  return message;
}

/** See {@link serializeRaw}. */
export function deserializeRaw(bytes: Buffer): Buffer {
  return bytes;
}
