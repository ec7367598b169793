import { encodeMessage, encodeMessagePrefix } from './message-encoder';
import { MAX_WIRE_MESSAGE_LENGTH } from './limits';

describe('encodeMessagePrefix', () => {
  it('writes flags 0 and the big-endian length', () => {
    expect([...encodeMessagePrefix(0x01020304)]).toEqual([0, 1, 2, 3, 4]);
  });

  it('writes flags 1 when compressed', () => {
    expect([...encodeMessagePrefix(5, { compressed: true })]).toEqual([1, 0, 0, 0, 5]);
  });

  it('accepts the wire maximum', () => {
    expect([...encodeMessagePrefix(MAX_WIRE_MESSAGE_LENGTH)]).toEqual([0, 0xff, 0xff, 0xff, 0xff]);
  });

  it.each([
    [2 ** 32, 'payloadLength must be an integer from 0 to 4294967295, got 4294967296'],
    [-1, 'payloadLength must be an integer from 0 to 4294967295, got -1'],
    [1.5, 'payloadLength must be an integer from 0 to 4294967295, got 1.5'],
    [NaN, 'payloadLength must be an integer from 0 to 4294967295, got NaN'],
  ])('rejects length %p', (length, message) => {
    expect(() => encodeMessagePrefix(length)).toThrow(new RangeError(message));
  });
});

describe('encodeMessage', () => {
  it('frames an empty payload as a bare prefix', () => {
    expect([...encodeMessage(Buffer.alloc(0))]).toEqual([0, 0, 0, 0, 0]);
  });

  it('puts the prefix before a copy of the payload', () => {
    const payload = Buffer.from([9, 8, 7]);
    const message = encodeMessage(payload, { compressed: true });
    expect([...message]).toEqual([1, 0, 0, 0, 3, 9, 8, 7]);
    message[5] = 0;
    expect([...payload]).toEqual([9, 8, 7]);
  });

  it('accepts a plain Uint8Array', () => {
    expect([...encodeMessage(new Uint8Array([4, 2]).subarray(1))]).toEqual([0, 0, 0, 0, 1, 2]);
  });

  it('rejects what is not bytes', () => {
    expect(() => encodeMessage('text' as unknown as Uint8Array)).toThrow(
      new TypeError('encodeMessage expects a Buffer or Uint8Array, got string'),
    );
  });
});
