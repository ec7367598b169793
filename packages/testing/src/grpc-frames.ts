/**
 * gRPC's length-prefixed message framing as the kit needs it on raw HTTP/2 streams: reading the
 * messages (with their compressed flag) out of DATA as it arrives, and gzip-compressing one
 * frame. The kit's wire taps use it; grpc-js hides both from its users.
 */
import { gzipSync } from 'node:zlib';

/** One gRPC length-prefixed message as it crossed the wire. */
export interface WireMessage {
  /** The compressed flag of the message's prefix. */
  readonly compressed: boolean;
  /** The message bytes as sent (still compressed when `compressed` is set). */
  readonly bytes: Buffer;
}

const PREFIX_LENGTH = 5;

/** Collects the gRPC messages of a byte stream fed in chunks of any size. */
export class WireMessageReader {
  /** Every whole message read so far, in order. */
  readonly messages: WireMessage[] = [];
  private pending: Buffer = Buffer.alloc(0);

  /** Adds the next chunk of the stream. */
  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= PREFIX_LENGTH) {
      const end = PREFIX_LENGTH + this.pending.readUInt32BE(1);
      if (this.pending.length < end) return;
      this.messages.push({
        compressed: this.pending[0] === 1,
        bytes: Buffer.from(this.pending.subarray(PREFIX_LENGTH, end)),
      });
      this.pending = this.pending.subarray(end);
    }
  }
}

/**
 * `frame`, one uncompressed length-prefixed message, gzip-compressed with the compressed flag
 * set; `undefined` when `frame` is not exactly one uncompressed message.
 */
export function gzipFrame(frame: Buffer): Buffer | undefined {
  if (frame.length < PREFIX_LENGTH || frame[0] !== 0) return undefined;
  if (frame.readUInt32BE(1) !== frame.length - PREFIX_LENGTH) return undefined;
  const compressed = gzipSync(frame.subarray(PREFIX_LENGTH));
  const prefix = Buffer.alloc(PREFIX_LENGTH);
  prefix[0] = 1;
  prefix.writeUInt32BE(compressed.length, 1);
  return Buffer.concat([prefix, compressed]);
}
