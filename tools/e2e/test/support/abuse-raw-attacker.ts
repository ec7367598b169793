/**
 * A raw HTTP/2 client connection for the abuse suite: hand-made frames written byte for byte,
 * the server's SETTINGS acknowledged, its GOAWAY noted, and when it closed the connection.
 */
import { connect, type Socket } from 'node:net';
import { FrameFlag, FrameType, encodeFrame, splitAddress } from '../../src';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** What an attacking connection saw. */
export interface AttackOutcome {
  /** Streams opened, frames or connections sent: what the attack counts. */
  sent: number;
  /** Milliseconds from the attack's start to the proxy closing the connection; none: open. */
  closedAfterMs?: number;
  /** The error code of the proxy's GOAWAY, if one was read. */
  goaway?: number;
}

/**
 * A raw HTTP/2 client connection: the preface and an empty SETTINGS, then whatever frames the
 * attack writes. Reading, it ACKs the server's SETTINGS and notes a GOAWAY; `reading: false`
 * never reads (a flood whose answers pile up in the proxy).
 */
export class RawAttacker {
  closedAt: number | undefined = undefined;
  goaway: number | undefined = undefined;
  private buffered = Buffer.alloc(0);
  private readonly closed: Promise<void>;

  private constructor(
    private readonly socket: Socket,
    reading: boolean,
  ) {
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.closedAt ??= Date.now();
        resolve();
      }),
    );
    socket.on('error', () => undefined);
    if (reading) socket.on('data', (chunk: Buffer) => this.receive(chunk));
    else socket.pause();
  }

  static async open(address: string, reading = true): Promise<RawAttacker> {
    const [host, port] = splitAddress(address);
    const socket = connect({ host, port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const attacker = new RawAttacker(socket, reading);
    attacker.write(PREFACE, encodeFrame(FrameType.SETTINGS, 0, 0, Buffer.alloc(0)));
    return attacker;
  }

  get isClosed(): boolean {
    return this.closedAt !== undefined || this.socket.destroyed;
  }

  /** Writes frames in one TCP write; false once the connection is gone. */
  write(...frames: Buffer[]): boolean {
    if (this.isClosed) return false;
    this.socket.write(frames.length === 1 ? frames[0] : Buffer.concat(frames));
    return true;
  }

  /** Resolves true once the proxy closed the connection, false after `timeoutMs`. */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const result = await Promise.race([this.closed.then(() => true as const), timedOut]);
    clearTimeout(timer);
    return result;
  }

  /** The outcome, timed from `startedAt`. */
  outcome(sent: number, startedAt: number): AttackOutcome {
    return {
      sent,
      ...(this.closedAt !== undefined && { closedAfterMs: this.closedAt - startedAt }),
      ...(this.goaway !== undefined && { goaway: this.goaway }),
    };
  }

  destroy(): void {
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 9) {
      const length = this.buffered.readUIntBE(0, 3);
      if (this.buffered.length < 9 + length) return;
      const type = this.buffered.readUInt8(3);
      const flags = this.buffered.readUInt8(4);
      if (type === FrameType.SETTINGS && !(flags & FrameFlag.ACK)) {
        this.write(encodeFrame(FrameType.SETTINGS, FrameFlag.ACK, 0, Buffer.alloc(0)));
      }
      if (type === FrameType.GOAWAY && this.goaway === undefined) {
        this.goaway = this.buffered.readUInt32BE(9 + 4);
      }
      this.buffered = this.buffered.subarray(9 + length);
    }
  }
}
