import { patternPayload } from '@grpc-proxy/testing';
import { MessageFramingError } from './framing-error';
import { DEFAULT_MAX_MESSAGE_LENGTH } from './limits';
import { type DecodedMessage, MessageDecoder } from './message-decoder';
import { encodeMessage, encodeMessagePrefix } from './message-encoder';
import { chunksOf } from './test-support/bytes';

const MiB = 1024 * 1024;

function decodeAll(decoder: MessageDecoder, chunks: Uint8Array[]): DecodedMessage[] {
  const messages = chunks.flatMap((chunk) => decoder.push(chunk));
  decoder.end();
  return messages;
}

function framingError(run: () => unknown): MessageFramingError {
  try {
    run();
  } catch (error) {
    if (error instanceof MessageFramingError) return error;
    throw error;
  }
  throw new Error('expected a MessageFramingError, nothing was thrown');
}

describe('MessageDecoder round trips', () => {
  it.each([
    ['empty', 0],
    ['1 byte', 1],
    ['1 KiB', 1024],
    ['4 MiB + 1', 4 * MiB + 1],
    ['16 MiB', 16 * MiB],
  ])('%s payload, in one chunk and in 64 KiB chunks', (_name, length) => {
    const payload = patternPayload(length);
    const wire = encodeMessage(payload, { compressed: length % 2 === 1 });

    const whole = decodeAll(new MessageDecoder(), [wire]);
    expect(whole).toHaveLength(1);
    expect(whole[0].compressed).toBe(length % 2 === 1);
    expect(whole[0].payload.equals(payload)).toBe(true);

    const split = decodeAll(new MessageDecoder(), chunksOf(wire, 64 * 1024));
    expect(split).toHaveLength(1);
    expect(split[0].compressed).toBe(length % 2 === 1);
    expect(split[0].payload.equals(payload)).toBe(true);
  });

  it('accepts a message over the default limit once the limit is raised', () => {
    const decoder = new MessageDecoder({ maxMessageLength: DEFAULT_MAX_MESSAGE_LENGTH + 1 });
    expect(decoder.push(encodeMessagePrefix(DEFAULT_MAX_MESSAGE_LENGTH + 1))).toEqual([]);
    expect(decoder.push(patternPayload(10))).toEqual([]);
    expect(decoder.bufferedLength).toBe(15);
    expect(framingError(() => decoder.end()).message).toBe(
      'stream ended inside a gRPC message: got 10 of 67108865 payload bytes',
    );
  });

  it('decodes several messages from one chunk, and one message fed byte by byte', () => {
    const wire = Buffer.concat([
      encodeMessage(Buffer.from('a')),
      encodeMessage(Buffer.alloc(0), { compressed: true }),
      encodeMessage(Buffer.from('bcd')),
    ]);
    const expected = [
      { compressed: false, text: 'a' },
      { compressed: true, text: '' },
      { compressed: false, text: 'bcd' },
    ];
    const summary = (messages: DecodedMessage[]) =>
      messages.map((m) => ({ compressed: m.compressed, text: m.payload.toString() }));
    expect(summary(decodeAll(new MessageDecoder(), [wire]))).toEqual(expected);
    expect(summary(decodeAll(new MessageDecoder(), chunksOf(wire, 1)))).toEqual(expected);
  });

  it('accepts plain Uint8Array chunks and empty chunks', () => {
    const wire = encodeMessage(Buffer.from('xyz'));
    const decoder = new MessageDecoder();
    expect(decoder.push(new Uint8Array(0))).toEqual([]);
    const messages = decodeAll(decoder, [
      new Uint8Array(wire.subarray(0, 6)),
      new Uint8Array(wire.subarray(6)),
    ]);
    expect(messages.map((m) => m.payload.toString())).toEqual(['xyz']);
  });

  it('rejects a chunk that is not bytes', () => {
    expect(() => new MessageDecoder().push([1, 2] as unknown as Uint8Array)).toThrow(
      new TypeError('MessageDecoder.push expects a Buffer or Uint8Array, got Array'),
    );
  });
});

describe('MessageDecoder buffers', () => {
  it('returns a view of the chunk when the payload lies wholly in it', () => {
    const wire = Buffer.concat([
      encodeMessage(Buffer.from('one')),
      encodeMessage(Buffer.from('two')),
    ]);
    const [first, second] = new MessageDecoder().push(wire);
    expect(first.payload.buffer).toBe(wire.buffer);
    expect(first.payload.byteOffset).toBe(wire.byteOffset + 5);
    expect(second.payload.byteOffset).toBe(wire.byteOffset + 13);
  });

  it('assembles a payload spanning chunks into a fresh buffer', () => {
    const chunks = chunksOf(encodeMessage(patternPayload(100)), 40);
    const decoder = new MessageDecoder();
    const [message] = decodeAll(decoder, chunks);
    expect(message.payload.equals(patternPayload(100))).toBe(true);
    for (const chunk of chunks) chunk.fill(0xee); // shares no memory with the chunks
    expect(message.payload.equals(patternPayload(100))).toBe(true);
  });

  it('never changes a payload it has handed out', () => {
    const decoder = new MessageDecoder();
    const handedOut: Array<{ payload: Buffer; snapshot: Buffer }> = [];
    const wire = Buffer.concat(
      [0, 1, 7, 300, 2, 70000].map((n) => encodeMessage(patternPayload(n))),
    );
    for (const chunk of chunksOf(wire, 33)) {
      for (const { payload } of decoder.push(chunk))
        handedOut.push({ payload, snapshot: Buffer.from(payload) });
    }
    decoder.end();
    expect(handedOut).toHaveLength(6);
    for (const { payload, snapshot } of handedOut) expect(payload.equals(snapshot)).toBe(true);
  });

  it('reports the bytes held for an incomplete message', () => {
    const decoder = new MessageDecoder();
    const wire = encodeMessage(patternPayload(10));
    decoder.push(wire.subarray(0, 3));
    expect(decoder.bufferedLength).toBe(3);
    decoder.push(wire.subarray(3, 9));
    expect(decoder.bufferedLength).toBe(9);
    decoder.push(wire.subarray(9));
    expect(decoder.bufferedLength).toBe(0);
  });
});

describe('MessageDecoder limits', () => {
  it('defaults to 64 MiB', () => {
    expect(new MessageDecoder().maxMessageLength).toBe(64 * MiB);
    expect(DEFAULT_MAX_MESSAGE_LENGTH).toBe(64 * MiB);
  });

  it('accepts a payload of exactly the limit', () => {
    const [message] = decodeAll(new MessageDecoder({ maxMessageLength: 3 }), [
      encodeMessage(Buffer.from('abc')),
    ]);
    expect(message.payload.toString()).toBe('abc');
  });

  it('fails on the prefix of a message over the limit, before its payload arrives', () => {
    const decoder = new MessageDecoder({ maxMessageLength: 4 * MiB });
    const error = framingError(() => decoder.push(encodeMessagePrefix(4 * MiB + 1)));
    expect(error.code).toBe('MESSAGE_TOO_LARGE');
    expect(error.message).toBe(
      'gRPC message of 4194305 bytes exceeds the maximum message length of 4194304 bytes',
    );
    expect(error.name).toBe('MessageFramingError');
    expect(decoder.error).toBe(error);
  });

  it('fails a message over the default limit', () => {
    const error = framingError(() => new MessageDecoder().push(encodeMessagePrefix(64 * MiB + 1)));
    expect(error.message).toBe(
      'gRPC message of 67108865 bytes exceeds the maximum message length of 67108864 bytes',
    );
  });

  it.each([-1, 2 ** 32, 0.5])('rejects maxMessageLength %p', (maxMessageLength) => {
    expect(() => new MessageDecoder({ maxMessageLength })).toThrow(
      new RangeError(
        `maxMessageLength must be an integer from 0 to 4294967295, got ${maxMessageLength}`,
      ),
    );
  });
});

describe('MessageDecoder malformed input', () => {
  it('fails at end inside a prefix', () => {
    const decoder = new MessageDecoder();
    expect(
      decoder.push(Buffer.concat([encodeMessage(Buffer.from('ok')), Buffer.from([0, 0, 0])])),
    ).toHaveLength(1);
    const error = framingError(() => decoder.end());
    expect(error.code).toBe('TRUNCATED_PREFIX');
    expect(error.message).toBe('stream ended inside a gRPC message prefix: got 3 of 5 bytes');
  });

  it('fails at end inside a payload', () => {
    const decoder = new MessageDecoder();
    decoder.push(encodeMessage(patternPayload(100)).subarray(0, 5 + 42));
    const error = framingError(() => decoder.end());
    expect(error.code).toBe('TRUNCATED_MESSAGE');
    expect(error.message).toBe('stream ended inside a gRPC message: got 42 of 100 payload bytes');
  });

  it('fails at end right after a prefix announcing a payload', () => {
    const decoder = new MessageDecoder();
    decoder.push(encodeMessagePrefix(7));
    const error = framingError(() => decoder.end());
    expect(error.code).toBe('TRUNCATED_MESSAGE');
    expect(error.message).toBe('stream ended inside a gRPC message: got 0 of 7 payload bytes');
  });

  it.each([
    [0x02, '0x02'],
    [0x80, '0x80'],
    [0xff, '0xff'],
  ])('fails on flags byte %p as soon as it arrives', (flags, hex) => {
    const decoder = new MessageDecoder();
    const error = framingError(() => decoder.push(Buffer.from([flags])));
    expect(error.code).toBe('RESERVED_FLAGS');
    expect(error.message).toBe(
      `gRPC message flags byte is ${hex}: reserved flag bits are set ` +
        '(only 0x00, uncompressed, and 0x01, compressed, are defined)',
    );
  });

  it('fails on reserved flags of a later message in the same chunk', () => {
    const decoder = new MessageDecoder();
    const wire = Buffer.concat([encodeMessage(Buffer.from('ok')), Buffer.from([3, 0, 0, 0, 0])]);
    expect(framingError(() => decoder.push(wire)).code).toBe('RESERVED_FLAGS');
  });

  it('stays failed: every later push and end throws the same error', () => {
    const decoder = new MessageDecoder();
    const error = framingError(() => decoder.push(Buffer.from([2, 0, 0, 0, 0])));
    expect(framingError(() => decoder.push(encodeMessage(Buffer.from('fine'))))).toBe(error);
    expect(framingError(() => decoder.end())).toBe(error);
    expect(decoder.error).toBe(error);
  });

  it('stays failed after a truncated end', () => {
    const decoder = new MessageDecoder();
    decoder.push(Buffer.from([0, 0]));
    const error = framingError(() => decoder.end());
    expect(framingError(() => decoder.end())).toBe(error);
    expect(framingError(() => decoder.push(Buffer.alloc(0)))).toBe(error);
  });

  it('allows end twice on a clean stream but no push after end', () => {
    const decoder = new MessageDecoder();
    decoder.end();
    expect(() => decoder.end()).not.toThrow();
    expect(decoder.error).toBeUndefined();
    expect(() => decoder.push(Buffer.alloc(0))).toThrow(
      new Error('MessageDecoder.push() called after end()'),
    );
  });
});
