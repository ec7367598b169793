import { codecWithParent, type Codec, fromTsProto } from './codec-with-parent';
import { RawFrame } from './raw-frame';
import { Greeting } from './test-support/gen/grpc_proxy/codec/sample/v1/sample';

const hello: Greeting = { text: 'hello', count: 7, blob: Buffer.from([1, 2, 3]), tags: ['x', 'y'] };

/** A ts-proto parent that counts its calls, to prove raw frames never reach it. */
function countingParent() {
  const inner = fromTsProto(Greeting);
  const calls = { serialize: 0, deserialize: 0 };
  const parent: Codec<Greeting> = {
    serialize: (message) => (calls.serialize++, inner.serialize(message)),
    deserialize: (bytes) => (calls.deserialize++, inner.deserialize(bytes)),
  };
  return { parent, calls };
}

describe('fromTsProto', () => {
  it('encodes like ts-proto and decodes back', () => {
    const codec = fromTsProto(Greeting);
    const bytes = codec.serialize(hello);
    expect(Buffer.isBuffer(bytes)).toBe(true);
    expect(Buffer.from(bytes).equals(Buffer.from(Greeting.encode(hello).finish()))).toBe(true);
    expect(codec.deserialize(Buffer.from(bytes))).toEqual(hello);
  });
});

describe('codecWithParent with a ts-proto message type', () => {
  it('sends messages through the parent', () => {
    const { parent, calls } = countingParent();
    const bytes = codecWithParent(parent).serialize(hello);
    expect(calls).toEqual({ serialize: 1, deserialize: 0 });
    expect(Greeting.decode(bytes)).toEqual(hello);
  });

  it('passes raw frames through untouched, without the parent, even when they are not valid messages', () => {
    const { parent, calls } = countingParent();
    const codec = codecWithParent(parent);
    const garbage = Buffer.from([0xff, 0xff, 0xff]);
    expect(() => Greeting.decode(garbage)).toThrow();
    expect(codec.serialize(new RawFrame(garbage))).toBe(garbage);
    expect([...garbage]).toEqual([0xff, 0xff, 0xff]);
    expect(calls).toEqual({ serialize: 0, deserialize: 0 });
  });

  it('deserializes into a frame over the same bytes, decoded by the parent only on demand', () => {
    const { parent, calls } = countingParent();
    const codec = codecWithParent(parent);
    const bytes = Buffer.from(Greeting.encode(hello).finish());
    const frame = codec.deserialize(bytes);
    expect(frame).toBeInstanceOf(RawFrame);
    expect(frame.payload).toBe(bytes);
    expect(frame.length).toBe(bytes.length);
    expect(calls.deserialize).toBe(0);
    expect(frame.decode()).toEqual(hello);
    expect(frame.decode()).not.toBe(frame.decode());
    expect(calls.deserialize).toBe(3);
    expect(codec.serialize(frame)).toBe(bytes);
  });

  it('decodes a frame made without a parent with decodeFrame', () => {
    const codec = codecWithParent(Greeting);
    const frame = new RawFrame(Greeting.encode(hello).finish());
    expect(codec.decodeFrame(frame)).toEqual(hello);
    expect(() => frame.decode()).toThrow(
      new Error(
        'RawFrame.decode(): this frame has no parent codec; decode it with codec.decodeFrame(frame) ' +
          'or create it with codecWithParent(parent).deserialize(bytes)',
      ),
    );
  });

  it('lets parent errors through on decode', () => {
    const frame = codecWithParent(Greeting).deserialize(Buffer.from([0x0a, 0x09, 0x41]));
    expect(() => frame.decode()).toThrow(RangeError);
  });

  it('works with detached functions, as grpc-js calls them', () => {
    const { serialize, deserialize } = codecWithParent(Greeting);
    expect(deserialize(serialize(hello)).decode()).toEqual(hello);
  });
});

describe('codecWithParent with any { serialize, deserialize } parent', () => {
  const json: Codec<unknown> = {
    serialize: (value) => new TextEncoder().encode(JSON.stringify(value)),
    deserialize: (bytes) => JSON.parse(bytes.toString('utf8')),
  };

  it('wraps a non-Buffer parent output as a Buffer view, without a copy', () => {
    const output = new TextEncoder().encode('{"a":1}');
    const codec = codecWithParent<unknown>({
      serialize: () => output,
      deserialize: json.deserialize,
    });
    const bytes = codec.serialize({ a: 1 });
    expect(Buffer.isBuffer(bytes)).toBe(true);
    expect(bytes.buffer).toBe(output.buffer);
    expect(codec.deserialize(bytes).decode()).toEqual({ a: 1 });
  });

  it('recognises frames of another copy of this package by their brand', () => {
    const codec = codecWithParent(json);
    const payload = Buffer.from('raw');
    const foreign = {
      payload,
      [Symbol.for('@grpc-proxy/codec.RawFrame')]: true,
    } as unknown as RawFrame;
    expect(RawFrame.isRawFrame(foreign)).toBe(true);
    expect(codec.serialize(foreign)).toBe(payload);
    expect(RawFrame.isRawFrame({ payload })).toBe(false);
    expect(RawFrame.isRawFrame(null)).toBe(false);
    expect(RawFrame.isRawFrame('raw')).toBe(false);
  });

  it('rejects a parent serialize result that is not bytes', () => {
    const codec = codecWithParent<unknown>({
      serialize: () => 'text' as unknown as Uint8Array,
      deserialize: json.deserialize,
    });
    expect(() => codec.serialize({})).toThrow(
      new TypeError('parent codec serialize expects a Buffer or Uint8Array, got string'),
    );
  });

  it.each([[{}], [null], [{ serialize: () => Buffer.alloc(0) }]])('rejects parent %p', (parent) => {
    expect(() => codecWithParent(parent as unknown as Codec<unknown>)).toThrow(
      new TypeError(
        'codecWithParent: the parent must have serialize/deserialize functions or ts-proto encode/decode functions',
      ),
    );
  });
});

describe('RawFrame', () => {
  it('carries the registry-wide brand that other copies of this package check', () => {
    const brand = Symbol.for('@grpc-proxy/codec.RawFrame');
    expect((new RawFrame(Buffer.alloc(0)) as unknown as Record<symbol, unknown>)[brand]).toBe(true);
  });

  it('keeps a Uint8Array payload as a Buffer view of the same memory', () => {
    const bytes = new Uint8Array([5, 6, 7]).subarray(1);
    const frame = new RawFrame(bytes);
    expect(Buffer.isBuffer(frame.payload)).toBe(true);
    expect(frame.payload.buffer).toBe(bytes.buffer);
    expect([...frame.payload]).toEqual([6, 7]);
  });

  it('rejects a payload that is not bytes', () => {
    expect(() => new RawFrame(undefined as unknown as Uint8Array)).toThrow(
      new TypeError('RawFrame expects a Buffer or Uint8Array, got undefined'),
    );
  });
});
