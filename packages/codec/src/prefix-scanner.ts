import { MESSAGE_PREFIX_LENGTH } from './limits';

/** What a {@link PrefixScanner} found wrong with a stream. */
export enum ScanResult {
  /** Well formed so far: the stream may go on. */
  OK = 0,
  /** A prefix announced a message longer than the limit ({@link PrefixScanner.tooLong} says how long). */
  TOO_LARGE = 1,
  /** A flags byte other than 0 (uncompressed) or 1 (compressed). */
  BAD_FLAGS = 2,
}

/** Hears each message a {@link PrefixScanner} sees complete. */
export interface MessageCounter {
  /** One whole message of `bytes` payload bytes went through (called once its last byte is scanned). */
  count(bytes: number): void;
}

/**
 * Follows the 5-byte prefixes of a stream of gRPC length-prefixed messages without keeping any
 * of its bytes, for code that forwards the chunks untouched: chunks may split prefixes and
 * payloads anywhere. It enforces a size limit as soon as a prefix announces a message (before
 * any of its payload is forwarded), counts messages, and tells whether the stream stopped inside
 * one. (`MessageDecoder` checks the same while also handing out the payloads.)
 *
 * No allocation per chunk or per message: the prefix is accumulated in number fields.
 */
export class PrefixScanner {
  /** Prefix bytes still to read (0 while inside a payload). */
  private prefixMissing = MESSAGE_PREFIX_LENGTH;
  /** The announced length, accumulated byte by byte. */
  private length = 0;
  /** Payload bytes still to pass before the next prefix. */
  private payloadMissing = 0;
  private overLimit = 0;

  /**
   * @param limit largest payload accepted, in bytes; required (`Infinity` or
   * `MAX_WIRE_MESSAGE_LENGTH`: no limit).
   * @param counter told about each completed message. Default: none.
   */
  constructor(
    /** The largest payload accepted, in bytes, as given to the constructor. */
    readonly limit: number,
    private readonly counter: MessageCounter | undefined = undefined,
  ) {}

  /** The announced length that broke the limit, once `scan` returned `TOO_LARGE`; 0 before. */
  get tooLong(): number {
    return this.overLimit;
  }

  /** True when the bytes so far end inside a prefix or a payload; false on a fresh scanner. */
  get midMessage(): boolean {
    return this.prefixMissing !== MESSAGE_PREFIX_LENGTH || this.payloadMissing !== 0;
  }

  /**
   * Follows `chunk` (read, never kept or changed). A result other than `OK` means the stream is
   * broken: stop forwarding it, and do not scan it further.
   */
  scan(chunk: Uint8Array): ScanResult {
    const end = chunk.length;
    let offset = 0;
    while (offset < end) {
      if (this.payloadMissing > 0) {
        const taken = Math.min(this.payloadMissing, end - offset);
        this.payloadMissing -= taken;
        offset += taken;
        if (this.payloadMissing === 0) this.counter?.count(this.length);
        continue;
      }
      const byte = chunk[offset++];
      if (this.prefixMissing === MESSAGE_PREFIX_LENGTH) {
        if (byte > 1) return ScanResult.BAD_FLAGS;
        this.length = 0;
      } else {
        // `* 256` rather than `<< 8`: lengths up to 4 GiB - 1 overflow a signed 32-bit shift.
        this.length = this.length * 256 + byte;
      }
      if (--this.prefixMissing === 0) {
        const result = this.startPayload();
        if (result !== ScanResult.OK) return result;
      }
    }
    return ScanResult.OK;
  }

  private startPayload(): ScanResult {
    this.prefixMissing = MESSAGE_PREFIX_LENGTH;
    if (this.length > this.limit) {
      this.overLimit = this.length;
      return ScanResult.TOO_LARGE;
    }
    if (this.length === 0) this.counter?.count(0);
    else this.payloadMissing = this.length;
    return ScanResult.OK;
  }
}
