/**
 * Why a byte stream is not a valid sequence of gRPC length-prefixed messages:
 * - `MESSAGE_TOO_LARGE`: a prefix announces a payload longer than the decoder's limit;
 * - `TRUNCATED_PREFIX`: the stream ended inside a 5-byte prefix;
 * - `TRUNCATED_MESSAGE`: the stream ended inside a payload;
 * - `RESERVED_FLAGS`: the flags byte is neither 0 (uncompressed) nor 1 (compressed).
 */
export type MessageFramingErrorCode =
  'MESSAGE_TOO_LARGE' | 'TRUNCATED_PREFIX' | 'TRUNCATED_MESSAGE' | 'RESERVED_FLAGS';

/**
 * Thrown by {@link MessageDecoder} on malformed or oversized input. The `code` tells the cases
 * apart; the message names the sizes involved. A gRPC server would answer `MESSAGE_TOO_LARGE` with
 * `RESOURCE_EXHAUSTED` and the others with `INTERNAL`.
 */
export class MessageFramingError extends Error {
  /** Always `'MessageFramingError'`. */
  override readonly name = 'MessageFramingError';

  /** Which rule the input broke. */
  readonly code: MessageFramingErrorCode;

  /**
   * @param code - which rule the input broke.
   * @param message - human-readable description, with the sizes involved.
   */
  constructor(code: MessageFramingErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
