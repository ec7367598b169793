import { EchoRequest } from '@grpc-proxy/testing';
import { MAX_FIELD_PATH_DEPTH, parseFieldPath, readField } from './message-fields';

const encode = (request: Parameters<typeof EchoRequest.fromPartial>[0]): Uint8Array =>
  EchoRequest.encode(EchoRequest.fromPartial(request)).finish();

describe('readField', () => {
  const request = encode({
    payload: Buffer.from('tenant-a'),
    responseCount: 7,
    statusCode: -3,
    echoMetadata: true,
    headersMode: 2,
    responseHeaders: [
      { key: 'first', value: 'one' },
      { key: 'second', value: 'two' },
    ],
  });

  it('reads strings and bytes as UTF-8 text, varints as signed decimal', () => {
    expect(readField(request, [1])).toBe('tenant-a');
    expect(readField(request, [2])).toBe('7');
    expect(readField(request, [5])).toBe('-3');
    expect(readField(request, [12])).toBe('1');
    expect(readField(request, [10])).toBe('2');
  });

  it('follows nested messages, the last occurrence winning', () => {
    expect(readField(request, [9, 1])).toBe('second');
    expect(readField(request, [9, 2])).toBe('two');
  });

  it('gives nothing for absent fields, defaults proto3 leaves out, and what is no protobuf', () => {
    expect(readField(request, [6])).toBeUndefined();
    expect(readField(encode({ responseCount: 0 }), [2])).toBeUndefined();
    expect(readField(request, [2, 1])).toBeUndefined();
    expect(readField(Buffer.from([0x0a, 0x05, 0x61]), [1])).toBeUndefined();
    expect(readField(Buffer.from([0xff, 0xff, 0xff]), [1])).toBeUndefined();
    expect(readField(new Uint8Array(0), [1])).toBeUndefined();
    expect(readField(request, [])).toBeUndefined();
  });
});

describe('parseFieldPath', () => {
  it('parses dotted field numbers', () => {
    expect(parseFieldPath('1')).toEqual([1]);
    expect(parseFieldPath('9.2')).toEqual([9, 2]);
    expect(parseFieldPath('536870911')).toEqual([536870911]);
  });

  it('rejects what is no field number, saying which part', () => {
    expect(() => parseFieldPath('0')).toThrow(
      new TypeError('field path 0: "0" is no field number (1 to 536870911)'),
    );
    expect(() => parseFieldPath('1.x')).toThrow(
      new TypeError('field path 1.x: "x" is no field number (1 to 536870911)'),
    );
    expect(() => parseFieldPath('536870912')).toThrow(TypeError);
    expect(() => parseFieldPath('1..2')).toThrow(TypeError);
    const deep = Array.from({ length: MAX_FIELD_PATH_DEPTH + 1 }, () => '1').join('.');
    expect(() => parseFieldPath(deep)).toThrow(
      new TypeError(`field path ${deep} is deeper than ${MAX_FIELD_PATH_DEPTH} fields`),
    );
  });
});
