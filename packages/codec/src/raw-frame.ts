import { asBuffer } from './bytes';

/** Decodes payload bytes into a message; the `deserialize` half of a parent codec. */
export type FrameDecoder<T> = (bytes: Buffer) => T;

// A registry-wide symbol, so that frames made by another copy of this package are still
// recognised as frames (and not handed to the parent codec as if they were messages).
const RAW_FRAME = Symbol.for('@grpc-proxy/codec.RawFrame');

/**
 * One gRPC message held as its raw payload bytes (without the 5-byte prefix): the TypeScript
 * form of Go's `proxy.Frame`. A codec made by `codecWithParent` passes a `RawFrame` through
 * untouched and yields one for every message it deserializes, so that a proxy forwards bytes it
 * never parses, and a handler that wants the message decodes it on demand with {@link decode}.
 */
export class RawFrame<T = unknown> {
  /**
   * The payload. Not a copy: it is the buffer given to the constructor (a view of the same memory
   * when a non-`Buffer` `Uint8Array` was given). Treat it as read-only.
   */
  readonly payload: Buffer;
  readonly #decoder: FrameDecoder<T> | undefined;

  /**
   * @param payload - the message bytes; kept by reference, not copied.
   * @param decoder - how {@link decode} turns the bytes into a message. Default: none, and then
   *   `decode()` throws.
   */
  constructor(payload: Uint8Array, decoder?: FrameDecoder<T>) {
    this.payload = asBuffer(payload, 'RawFrame');
    this.#decoder = decoder;
  }

  /** Brand checked by {@link RawFrame.isRawFrame}; always `true`. */
  get [RAW_FRAME](): true {
    return true;
  }

  /** Whether `value` is a `RawFrame` (from this or any other copy of this package). */
  static isRawFrame(value: unknown): value is RawFrame {
    return (
      value instanceof RawFrame ||
      (typeof value === 'object' &&
        value !== null &&
        (value as { [RAW_FRAME]?: unknown })[RAW_FRAME] === true)
    );
  }

  /** Size of the payload in bytes. */
  get length(): number {
    return this.payload.length;
  }

  /**
   * Decodes the payload with the parent codec. Every call decodes afresh (nothing is cached),
   * so each caller gets a message object of its own. Errors of the parent codec propagate as is.
   *
   * @throws Error if the frame was made without a decoder.
   */
  decode(): T {
    if (this.#decoder === undefined) {
      throw new Error(
        'RawFrame.decode(): this frame has no parent codec; decode it with codec.decodeFrame(frame) ' +
          'or create it with codecWithParent(parent).deserialize(bytes)',
      );
    }
    return this.#decoder(this.payload);
  }
}
