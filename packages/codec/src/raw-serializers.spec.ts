import { deserializeRaw, rawMethod, serializeRaw } from './raw-serializers';

describe('serializeRaw / deserializeRaw', () => {
  it('return the very same Buffer', () => {
    const bytes = Buffer.from('abc');
    expect(serializeRaw(bytes)).toBe(bytes);
    expect(deserializeRaw(bytes)).toBe(bytes);
  });

  it('turn a plain Uint8Array into a Buffer view of the same memory', () => {
    const bytes = new Uint8Array([1, 2, 3, 4]).subarray(1, 3);
    const buffer = serializeRaw(bytes);
    expect(Buffer.isBuffer(buffer)).toBe(true);
    expect(buffer.buffer).toBe(bytes.buffer);
    expect([...buffer]).toEqual([2, 3]);
  });

  it.each([
    ['text', 'string'],
    [{}, 'Object'],
    [Object.create(null), 'object'],
    [null, 'null'],
  ])('rejects %p', (value, described) => {
    expect(() => serializeRaw(value as unknown as Uint8Array)).toThrow(
      new TypeError(`serializeRaw expects a Buffer or Uint8Array, got ${described}`),
    );
  });
});

describe('rawMethod', () => {
  it('defaults to a unary method with identity serializers', () => {
    expect(rawMethod('/pkg.Service/Method')).toEqual({
      path: '/pkg.Service/Method',
      requestStream: false,
      responseStream: false,
      requestSerialize: serializeRaw,
      requestDeserialize: deserializeRaw,
      responseSerialize: serializeRaw,
      responseDeserialize: deserializeRaw,
    });
  });

  it('takes the call kind', () => {
    const bidi = rawMethod('/S/M', { requestStream: true, responseStream: true });
    expect([bidi.requestStream, bidi.responseStream]).toEqual([true, true]);
    const serverStream = rawMethod('/S/M', { responseStream: true });
    expect([serverStream.requestStream, serverStream.responseStream]).toEqual([false, true]);
  });

  it.each([
    'pkg.Service/Method',
    '/pkg.Service',
    '/pkg.Service/',
    '//Method',
    '/a/b/c',
    '/a b/c',
    '',
  ])('rejects path %p', (path) => {
    expect(() => rawMethod(path)).toThrow(
      new TypeError(
        `rawMethod: method path must look like '/package.Service/Method', got ${JSON.stringify(path)}`,
      ),
    );
  });
});
