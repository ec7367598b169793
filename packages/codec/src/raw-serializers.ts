import { asBuffer } from './bytes';

/**
 * Identity serializer for grpc-js: the message is already its wire bytes, so they are returned
 * unchanged — the very same `Buffer`, never parsed or copied. grpc-js then copies it behind the
 * 5-byte prefix of its own frame buffer.
 *
 * A `Uint8Array` that is not a `Buffer` is accepted too and returned as a `Buffer` view of the
 * same memory (no copy), because grpc-js needs `Buffer` methods.
 *
 * @throws TypeError if `message` is not a `Uint8Array` (grpc-js reports it as an `INTERNAL` status).
 */
export function serializeRaw(message: Uint8Array): Buffer {
  return asBuffer(message, 'serializeRaw');
}

/**
 * Identity deserializer for grpc-js: returns the very `Buffer` grpc-js received (a view, no
 * copy). grpc-js hands every message a buffer of its own and never writes to it again, so the
 * result may be kept as long as needed.
 */
export function deserializeRaw(bytes: Buffer): Buffer {
  return bytes;
}

/** The call kind of a raw method. Both default to `false` (a unary method). */
export interface RawMethodOptions {
  /** The client sends a stream of messages. Default: `false`. */
  requestStream?: boolean;
  /** The server sends a stream of messages. Default: `false`. */
  responseStream?: boolean;
}

/**
 * A grpc-js method definition (the `MethodDefinition<Buffer, Buffer>` shape, declared here
 * structurally so that this package needs no grpc-js at run time) whose requests and responses
 * are raw `Buffer`s.
 */
export interface RawMethodDefinition {
  /** Full method path, `'/package.Service/Method'`. */
  readonly path: string;
  /** Whether the client streams. */
  readonly requestStream: boolean;
  /** Whether the server streams. */
  readonly responseStream: boolean;
  /** {@link serializeRaw}. */
  readonly requestSerialize: (message: Buffer) => Buffer;
  /** {@link deserializeRaw}. */
  readonly requestDeserialize: (bytes: Buffer) => Buffer;
  /** {@link serializeRaw}. */
  readonly responseSerialize: (message: Buffer) => Buffer;
  /** {@link deserializeRaw}. */
  readonly responseDeserialize: (bytes: Buffer) => Buffer;
}

const METHOD_PATH = /^\/[^/\s]+\/[^/\s]+$/;

/**
 * A method definition for a raw-bytes method, ready for grpc-js `server.addService`,
 * `makeGenericClientConstructor` or `client.makeUnaryRequest(def.path, def.requestSerialize, …)`:
 *
 * ```ts
 * server.addService({ Echo: rawMethod('/demo.Echo/Echo') }, { Echo: handler });
 * ```
 *
 * @param path - full method path, `'/package.Service/Method'`.
 * @param options - call kind; default unary.
 * @throws TypeError if `path` is not of the form `/Service/Method`.
 */
export function rawMethod(path: string, options: RawMethodOptions = {}): RawMethodDefinition {
  if (typeof path !== 'string' || !METHOD_PATH.test(path)) {
    throw new TypeError(
      `rawMethod: method path must look like '/package.Service/Method', got ${JSON.stringify(path)}`,
    );
  }
  return {
    path,
    requestStream: options.requestStream ?? false,
    responseStream: options.responseStream ?? false,
    requestSerialize: serializeRaw,
    requestDeserialize: deserializeRaw,
    responseSerialize: serializeRaw,
    responseDeserialize: deserializeRaw,
  };
}
