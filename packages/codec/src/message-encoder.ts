import { asBuffer } from './bytes';
import { checkWireLength, MESSAGE_PREFIX_LENGTH } from './limits';

/** Options of {@link encodeMessage} and {@link encodeMessagePrefix}. */
export interface EncodeMessageOptions {
  /** Sets the compressed flag (the payload must already be compressed). Default: `false`. */
  compressed?: boolean;
}

/**
 * The 5-byte prefix of a gRPC message: flags byte (1 when compressed, else 0) and the payload
 * length as a 4-byte big-endian integer. Write it followed by the payload (for example with
 * `writev`) to frame a message without copying the payload.
 *
 * @returns a fresh 5-byte `Buffer`.
 * @throws RangeError if `payloadLength` is not an integer from 0 to 4294967295.
 */
export function encodeMessagePrefix(
  payloadLength: number,
  options: EncodeMessageOptions = {},
): Buffer {
  const prefix = Buffer.allocUnsafe(MESSAGE_PREFIX_LENGTH);
  writePrefix(prefix, payloadLength, options);
  return prefix;
}

/**
 * One gRPC length-prefixed message: the 5-byte prefix (see {@link encodeMessagePrefix}) followed
 * by the payload.
 *
 * @returns a fresh `Buffer` of `payload.length + 5` bytes (the payload is copied; the argument is
 *   neither kept nor changed).
 * @throws RangeError if the payload is longer than 4294967295 bytes.
 * @throws TypeError if `payload` is not a `Uint8Array`.
 */
export function encodeMessage(payload: Uint8Array, options: EncodeMessageOptions = {}): Buffer {
  const bytes = asBuffer(payload, 'encodeMessage');
  checkWireLength('payload length', bytes.length);
  const message = Buffer.allocUnsafe(MESSAGE_PREFIX_LENGTH + bytes.length);
  writePrefix(message, bytes.length, options);
  bytes.copy(message, MESSAGE_PREFIX_LENGTH);
  return message;
}

function writePrefix(target: Buffer, payloadLength: number, options: EncodeMessageOptions): void {
  checkWireLength('payloadLength', payloadLength);
  target.writeUInt8(options.compressed === true ? 1 : 0, 0);
  target.writeUInt32BE(payloadLength, 1);
}
