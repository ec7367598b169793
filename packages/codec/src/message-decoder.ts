import { asBuffer } from './bytes';
import { MessageFramingError } from './framing-error';
import { checkWireLength, DEFAULT_MAX_MESSAGE_LENGTH, MESSAGE_PREFIX_LENGTH } from './limits';

/** One message decoded by {@link MessageDecoder}. */
export interface DecodedMessage {
  /** The compressed flag of the prefix: the payload is compressed with the call's encoding. */
  readonly compressed: boolean;
  /**
   * The payload, without the prefix. When it lay wholly inside one pushed chunk, this is a view of
   * that chunk (no copy); when it spanned chunks, a fresh buffer it was assembled into. Either way
   * the decoder never writes to it or hands it out again.
   */
  readonly payload: Buffer;
}

/** Options of {@link MessageDecoder}. */
export interface MessageDecoderOptions {
  /**
   * Largest payload accepted, in bytes (the prefix not counted); a prefix announcing more fails
   * the decoder with `MESSAGE_TOO_LARGE` before any of the payload is buffered. An integer from 0
   * to 4294967295 (`MAX_WIRE_MESSAGE_LENGTH`, the wire maximum, for no limit).
   * Default: 64 MiB (`DEFAULT_MAX_MESSAGE_LENGTH`).
   */
  maxMessageLength?: number;
}

const FLAG_UNCOMPRESSED = 0;
const FLAG_COMPRESSED = 1;
const READING_PREFIX = -1;

/**
 * Incremental decoder of gRPC length-prefixed messages: push the chunks of a byte stream as they
 * arrive, split anywhere (a message across chunks, several messages in one chunk), and get back
 * every message they complete; call {@link end} when the stream ends.
 *
 * Malformed input throws a {@link MessageFramingError}. Once failed, the decoder stays failed:
 * every later `push` or `end` throws the same error. Messages completed earlier in the chunk that
 * failed are not returned (the stream is broken anyway).
 *
 * Memory: the decoder holds only the bytes of the one incomplete message (see
 * {@link bufferedLength}), never more than the limit plus the prefix. It keeps views of pushed
 * chunks rather than copies, so a chunk must not be changed after it has been pushed.
 */
export class MessageDecoder {
  /** The effective limit; see {@link MessageDecoderOptions.maxMessageLength}. */
  readonly maxMessageLength: number;

  readonly #prefix = Buffer.alloc(MESSAGE_PREFIX_LENGTH);
  #prefixFilled = 0;
  #payloadLength = READING_PREFIX;
  #pieces: Buffer[] = [];
  #piecesLength = 0;
  #error: MessageFramingError | undefined;
  #ended = false;

  /**
   * @param options - limits; see {@link MessageDecoderOptions}.
   * @throws RangeError if `maxMessageLength` is not an integer from 0 to 4294967295.
   */
  constructor(options: MessageDecoderOptions = {}) {
    this.maxMessageLength = checkWireLength(
      'maxMessageLength',
      options.maxMessageLength ?? DEFAULT_MAX_MESSAGE_LENGTH,
    );
  }

  /** The error that failed the decoder, or `undefined` while it is healthy. */
  get error(): MessageFramingError | undefined {
    return this.#error;
  }

  /** Bytes held for the incomplete message (prefix and payload so far); 0 between messages. */
  get bufferedLength(): number {
    return this.#prefixFilled + this.#piecesLength;
  }

  /**
   * Feeds the next chunk of the stream.
   *
   * @param chunk - any number of bytes, including none; kept by reference (see the class notes).
   * @returns the messages this chunk completes, in order (often none, possibly many).
   * @throws MessageFramingError on reserved flag bits or a message over the limit.
   * @throws Error if called after {@link end}.
   */
  push(chunk: Uint8Array): DecodedMessage[] {
    this.#checkUsable('push');
    const bytes = asBuffer(chunk, 'MessageDecoder.push');
    const messages: DecodedMessage[] = [];
    let offset = 0;
    try {
      while (offset < bytes.length) {
        offset =
          this.#payloadLength === READING_PREFIX
            ? this.#readPrefix(bytes, offset, messages)
            : this.#readPayload(bytes, offset, messages);
      }
    } catch (error) {
      this.#error = error as MessageFramingError;
      throw error;
    }
    return messages;
  }

  /**
   * Declares the end of the stream; calling it again does nothing.
   *
   * @throws MessageFramingError if the stream ended inside a prefix or a payload.
   */
  end(): void {
    this.#checkUsable('end');
    this.#ended = true;
    if (this.#payloadLength !== READING_PREFIX) {
      this.#error = new MessageFramingError(
        'TRUNCATED_MESSAGE',
        `stream ended inside a gRPC message: got ${this.#piecesLength} of ${this.#payloadLength} payload bytes`,
      );
    } else if (this.#prefixFilled > 0) {
      this.#error = new MessageFramingError(
        'TRUNCATED_PREFIX',
        `stream ended inside a gRPC message prefix: got ${this.#prefixFilled} of ${MESSAGE_PREFIX_LENGTH} bytes`,
      );
    }
    if (this.#error !== undefined) throw this.#error;
  }

  #checkUsable(operation: string): void {
    if (this.#error !== undefined) throw this.#error;
    if (this.#ended && operation === 'push')
      throw new Error('MessageDecoder.push() called after end()');
  }

  /** Copies prefix bytes (at most 5, so copying is cheaper than keeping views). */
  #readPrefix(bytes: Buffer, offset: number, messages: DecodedMessage[]): number {
    const taken = Math.min(MESSAGE_PREFIX_LENGTH - this.#prefixFilled, bytes.length - offset);
    bytes.copy(this.#prefix, this.#prefixFilled, offset, offset + taken);
    // Checked on the first byte, so that a bad flags byte is reported as such even when the
    // stream then ends inside the prefix.
    if (this.#prefixFilled === 0) checkFlags(this.#prefix[0]);
    this.#prefixFilled += taken;
    if (this.#prefixFilled === MESSAGE_PREFIX_LENGTH) this.#startPayload(messages);
    return offset + taken;
  }

  #startPayload(messages: DecodedMessage[]): void {
    const length = this.#prefix.readUInt32BE(1);
    if (length > this.maxMessageLength) {
      throw new MessageFramingError(
        'MESSAGE_TOO_LARGE',
        `gRPC message of ${length} bytes exceeds the maximum message length of ${this.maxMessageLength} bytes`,
      );
    }
    this.#payloadLength = length;
    if (length === 0) this.#finish(messages, Buffer.alloc(0));
  }

  #readPayload(bytes: Buffer, offset: number, messages: DecodedMessage[]): number {
    const missing = this.#payloadLength - this.#piecesLength;
    const available = bytes.length - offset;
    if (this.#piecesLength === 0 && available >= missing) {
      this.#finish(messages, bytes.subarray(offset, offset + missing));
      return offset + missing;
    }
    const taken = Math.min(missing, available);
    this.#pieces.push(bytes.subarray(offset, offset + taken));
    this.#piecesLength += taken;
    if (this.#piecesLength === this.#payloadLength) {
      this.#finish(messages, Buffer.concat(this.#pieces, this.#payloadLength));
    }
    return offset + taken;
  }

  #finish(messages: DecodedMessage[], payload: Buffer): void {
    messages.push({ compressed: this.#prefix[0] === FLAG_COMPRESSED, payload });
    this.#prefixFilled = 0;
    this.#payloadLength = READING_PREFIX;
    this.#pieces = [];
    this.#piecesLength = 0;
  }
}

function checkFlags(flags: number): void {
  if (flags !== FLAG_UNCOMPRESSED && flags !== FLAG_COMPRESSED) {
    throw new MessageFramingError(
      'RESERVED_FLAGS',
      `gRPC message flags byte is 0x${flags.toString(16).padStart(2, '0')}: reserved flag bits are set ` +
        '(only 0x00, uncompressed, and 0x01, compressed, are defined)',
    );
  }
}
