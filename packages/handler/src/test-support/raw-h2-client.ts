/**
 * A byte-level HTTP/2 client for what `node:http2` will not send: a stream's HEADERS and its
 * RST_STREAM in one TCP write (nghttp2 drops a HEADERS still queued when the stream is reset),
 * the rapid-reset pattern. It reads only what the tests need: the server's GOAWAY and the close.
 */
import { constants } from 'node:http2';
import { connect, type Socket } from 'node:net';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const HEADERS = 0x1;
const RST_STREAM = 0x3;
const SETTINGS = 0x4;
const GOAWAY = 0x7;
const END_HEADERS = 0x4;
const ACK = 0x1;

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

/** HPACK "literal without indexing, new name" fields, every length under 127 bytes. */
function literalFields(fields: readonly (readonly [string, string])[]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of fields) {
    parts.push(Buffer.from([0, name.length]), Buffer.from(name), Buffer.from([value.length]));
    parts.push(Buffer.from(value));
  }
  return Buffer.concat(parts);
}

/** HEADERS (END_HEADERS, no END_STREAM) opening a gRPC call of `path` on `streamId`. */
export function callHeaders(streamId: number, path: string): Buffer {
  const block = literalFields([
    [':method', 'POST'],
    [':scheme', 'http'],
    [':path', path],
    [':authority', 'proxy'],
    ['content-type', 'application/grpc'],
    ['te', 'trailers'],
  ]);
  return frame(HEADERS, END_HEADERS, streamId, block);
}

/** RST_STREAM(CANCEL) of `streamId`. */
export function cancelStream(streamId: number): Buffer {
  const code = Buffer.alloc(4);
  code.writeUInt32BE(constants.NGHTTP2_CANCEL);
  return frame(RST_STREAM, 0, streamId, code);
}

/** A raw client connection: send frames as bytes, learn of the server's GOAWAY and close. */
export class RawH2Client {
  /** The error code of the first GOAWAY received. */
  goawayCode: number | undefined = undefined;
  private closed = false;
  private readonly closedPromise: Promise<void>;
  private received = Buffer.alloc(0);

  private constructor(private readonly socket: Socket) {
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    this.closedPromise = new Promise((resolve) =>
      socket.once('close', () => {
        this.closed = true;
        resolve();
      }),
    );
  }

  /** Connects to `host:port` and sends the preface and an empty SETTINGS frame. */
  static async open(target: string): Promise<RawH2Client> {
    const [host, port] = target.split(':');
    const socket = connect({ host, port: Number(port) });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new RawH2Client(socket);
    client.send(PREFACE, frame(SETTINGS, 0, 0, Buffer.alloc(0)));
    return client;
  }

  /** Writes `frames` in one TCP write. */
  send(...frames: Buffer[]): void {
    this.socket.write(Buffer.concat(frames));
  }

  /** Resolves `true` once the server closed the connection, `false` after `timeoutMs`. */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([this.closedPromise, timeout]);
    clearTimeout(timer);
    return this.closed;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    this.received = Buffer.concat([this.received, chunk]);
    while (this.received.length >= 9) {
      const length = this.received.readUIntBE(0, 3);
      if (this.received.length < 9 + length) return;
      const type = this.received[3];
      const flags = this.received[4];
      if (type === SETTINGS && (flags & ACK) === 0)
        this.send(frame(SETTINGS, ACK, 0, Buffer.alloc(0)));
      if (type === GOAWAY && this.goawayCode === undefined) {
        this.goawayCode = this.received.readUInt32BE(9 + 4);
      }
      this.received = this.received.subarray(9 + length);
    }
  }
}
