/**
 * The same bytes as a `Buffer`, without copying: a `Buffer` is returned as is, any other
 * `Uint8Array` is wrapped as a view of its memory. Throws a `TypeError` naming `what` for
 * anything that is not a `Uint8Array`, because grpc-js would otherwise fail later with a far
 * less helpful message.
 */
export function asBuffer(bytes: unknown, what: string): Buffer {
  if (Buffer.isBuffer(bytes)) return bytes;
  if (bytes instanceof Uint8Array)
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  throw new TypeError(`${what} expects a Buffer or Uint8Array, got ${describe(bytes)}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return value.constructor?.name ?? 'object';
}
