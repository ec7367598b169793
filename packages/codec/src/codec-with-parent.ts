import { asBuffer } from './bytes';
import { RawFrame } from './raw-frame';

/**
 * Any message codec: grpc-js serializer pairs fit, and so does anything with the same two
 * functions. `serialize` may return any `Uint8Array`; it is wrapped as a `Buffer` without a copy.
 */
export interface Codec<T> {
  /** Message to wire bytes. */
  serialize(message: T): Uint8Array;
  /** Wire bytes to message. */
  deserialize(bytes: Buffer): T;
}

/**
 * The message functions ts-proto generates for a message type (`MessageFns<T>`), declared
 * structurally: only `encode(message).finish()` and `decode(bytes)` are used.
 */
export interface TsProtoMessageFns<T> {
  /** ts-proto's `encode`: writes `message` into a fresh writer. */
  encode(message: T): { finish(): Uint8Array };
  /** ts-proto's `decode`: reads a message from bytes. */
  decode(input: Uint8Array): T;
}

/**
 * A {@link Codec} over ts-proto generated message functions:
 * `fromTsProto(Greeting)` serializes with `Greeting.encode(message).finish()` and deserializes with
 * `Greeting.decode(bytes)`. The serialized bytes are a `Buffer` view of the writer's output (no
 * copy).
 */
export function fromTsProto<T>(messageFns: TsProtoMessageFns<T>): Codec<T> {
  return {
    serialize: (message) => asBuffer(messageFns.encode(message).finish(), 'fromTsProto serialize'),
    deserialize: (bytes) => messageFns.decode(bytes),
  };
}

/**
 * A codec that lets raw frames through and hands everything else to a parent codec; made by
 * {@link codecWithParent}. Its functions do not use `this`, so they can be passed on their own
 * (for example as grpc-js serializers: `makeUnaryRequest(path, codec.serialize, codec.deserialize, …)`).
 */
export interface CodecWithParent<T> {
  /** The parent codec, used for every value that is not a {@link RawFrame}. */
  readonly parent: Codec<T>;
  /**
   * A {@link RawFrame} becomes its `payload` — the same `Buffer`, untouched, not copied. Any other
   * value is serialized by the parent, and its output is returned as a `Buffer` (a view of the
   * parent's bytes, not a copy).
   */
  serialize(value: T | RawFrame): Buffer;
  /**
   * Wraps the bytes in a {@link RawFrame} without parsing or copying them; `frame.decode()` decodes
   * them with the parent on demand.
   */
  deserialize(bytes: Buffer): RawFrame<T>;
  /** Decodes any frame's payload with the parent (also frames made without a decoder). */
  decodeFrame(frame: RawFrame): T;
}

/**
 * The TypeScript form of Go's `proxy.CodecWithParent`: raw frames pass through untouched, any
 * other value goes to the parent codec, and deserializing yields a {@link RawFrame} that the parent
 * decodes on demand.
 *
 * @param parent - a {@link Codec} (`{ serialize, deserialize }`), or ts-proto generated message
 *   functions (`{ encode, decode }`, adapted with {@link fromTsProto}).
 */
export function codecWithParent<T>(parent: Codec<T> | TsProtoMessageFns<T>): CodecWithParent<T> {
  const codec = toCodec(parent);
  const decode = (bytes: Buffer): T => codec.deserialize(bytes);
  return {
    parent: codec,
    serialize: (value) =>
      RawFrame.isRawFrame(value)
        ? value.payload
        : asBuffer(codec.serialize(value), 'parent codec serialize'),
    deserialize: (bytes) => new RawFrame(bytes, decode),
    decodeFrame: (frame) => codec.deserialize(frame.payload),
  };
}

function toCodec<T>(parent: Codec<T> | TsProtoMessageFns<T>): Codec<T> {
  if (isCodec(parent)) return parent;
  if (typeof parent?.encode === 'function' && typeof parent.decode === 'function')
    return fromTsProto(parent);
  throw new TypeError(
    'codecWithParent: the parent must have serialize/deserialize functions or ts-proto encode/decode functions',
  );
}

function isCodec<T>(parent: Codec<T> | TsProtoMessageFns<T>): parent is Codec<T> {
  const candidate = parent as Partial<Codec<T>> | undefined;
  return typeof candidate?.serialize === 'function' && typeof candidate.deserialize === 'function';
}
