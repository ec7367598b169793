import { connect, type Socket } from 'node:net';
import { splitAddress } from './h2-client';

/** HTTP/2 frame types used here (RFC 9113 §6). */
export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
} as const;

/** HTTP/2 frame flags used here. */
export const FrameFlag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;

/** One received frame. */
export interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Encodes one frame. */
export function encodeFrame(type: number, flags: number, streamId: number, payload: Buffer) {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header.writeUInt8(type, 3);
  header.writeUInt8(flags, 4);
  header.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([header, payload]);
}

/** HPACK integer with an N-bit prefix (RFC 7541 §5.1). */
function hpackInteger(value: number, prefixBits: number, firstByte = 0): Buffer {
  const limit = (1 << prefixBits) - 1;
  if (value < limit) return Buffer.from([firstByte | value]);
  const bytes = [firstByte | limit];
  let rest = value - limit;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

function hpackString(text: string): Buffer {
  const bytes = Buffer.from(text, 'latin1');
  return Buffer.concat([hpackInteger(bytes.length, 7), bytes]);
}

/**
 * An HPACK header block of "literal without indexing, new name" fields only: no Huffman, no
 * dynamic table, so any bytes can be sent, including what `node:http2` refuses to send.
 */
function hpackBlock(headers: readonly (readonly [string, string])[]): Buffer {
  return Buffer.concat(
    headers.flatMap(([name, value]) => [
      Buffer.from([0x00]),
      hpackString(name),
      hpackString(value),
    ]),
  );
}

/**
 * A HEADERS frame opening stream `streamId` as a gRPC request for `path` (`:method`, `:path`,
 * `:scheme`, `:authority`, `content-type`), followed by the `extra` fields as given: any name or
 * value, even ones `node:http2` refuses to send. `flags` default to END_HEADERS alone.
 */
export function requestHeadersFrame(
  streamId: number,
  path: string,
  extra: readonly (readonly [string, string])[],
  flags: number = FrameFlag.END_HEADERS,
): Buffer {
  return encodeFrame(
    FrameType.HEADERS,
    flags,
    streamId,
    hpackBlock([
      [':method', 'POST'],
      [':path', path],
      [':scheme', 'http'],
      [':authority', 'e2e'],
      ['content-type', 'application/grpc'],
      ...extra,
    ]),
  );
}

/**
 * A hand-driven HTTP/2 client connection: the test writes frames byte for byte and reads the
 * frames the server answers with (their header blocks are not decoded). It answers the
 * server's SETTINGS with an ACK, as a real client must.
 */
export class RawFrameConnection {
  readonly frames: Frame[] = [];
  closed = false;
  private buffered = Buffer.alloc(0);
  private readonly waiters = new Set<() => void>();

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
  }

  /** Connects and sends the preface and an empty SETTINGS frame. */
  static async open(address: string): Promise<RawFrameConnection> {
    const [host, port] = splitAddress(address);
    const socket = connect({ host, port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const connection = new RawFrameConnection(socket);
    connection.send(PREFACE, encodeFrame(FrameType.SETTINGS, 0, 0, Buffer.alloc(0)));
    return connection;
  }

  /** Writes frames (already encoded) in one TCP write. */
  send(...frames: Buffer[]): void {
    this.socket.write(Buffer.concat(frames));
  }

  /** Waits for the first received frame matching `match`, or the connection's close. */
  waitForFrame(match: (frame: Frame) => boolean, timeoutMs: number): Promise<Frame | 'closed'> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const frame = this.frames.find(match);
        if (frame || this.closed) {
          clearTimeout(timer);
          this.waiters.delete(check);
          resolve(frame ?? 'closed');
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        const seen = this.frames.map((frame) => `${frame.type}/${frame.streamId}`).join(' ');
        reject(new Error(`no matching frame within ${timeoutMs} ms; saw ${seen}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Closes the TCP connection. */
  close(): void {
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 9) {
      const length = this.buffered.readUIntBE(0, 3);
      if (this.buffered.length < 9 + length) break;
      const frame: Frame = {
        type: this.buffered.readUInt8(3),
        flags: this.buffered.readUInt8(4),
        streamId: this.buffered.readUInt32BE(5) & 0x7fffffff,
        payload: this.buffered.subarray(9, 9 + length),
      };
      this.buffered = this.buffered.subarray(9 + length);
      if (frame.type === FrameType.SETTINGS && !(frame.flags & FrameFlag.ACK)) {
        this.send(encodeFrame(FrameType.SETTINGS, FrameFlag.ACK, 0, Buffer.alloc(0)));
      }
      this.frames.push(frame);
    }
    this.notify();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** The error code of a RST_STREAM or GOAWAY frame. */
export function frameErrorCode(frame: Frame): number {
  return frame.type === FrameType.GOAWAY
    ? frame.payload.readUInt32BE(4)
    : frame.payload.readUInt32BE(0);
}
