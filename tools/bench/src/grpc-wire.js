'use strict';
/**
 * What the workers share about the wire: the benchmark service's method paths, identity
 * (de)serializers so grpc-js never touches protobuf, and gRPC length-prefixed framing for the
 * node:http2 floor and h2load.
 */

/** Method paths of the raw echo service every backend in the bench serves. */
const UNARY_PATH = '/bench.Echo/Unary';
const STREAM_PATH = '/bench.Echo/Stream';

/** Identity (de)serializer: messages are raw Buffers end to end. */
const identity = (buffer) => buffer;

/** grpc-js service definition of the raw echo service (unary + bidi), for servers and proxies. */
const echoServiceDefinition = {
  Unary: method(UNARY_PATH, false),
  Stream: method(STREAM_PATH, true),
};

function method(path, streaming) {
  return {
    path,
    requestStream: streaming,
    responseStream: streaming,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  };
}

/** Channel/server options that lift grpc-js's 4 MiB receive limit (64 KiB messages are fine). */
const unlimitedMessages = {
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': -1,
};

/** A payload of `size` bytes with a recognisable pattern (not all zeroes, so nothing can elide). */
function payloadOf(size) {
  const buffer = Buffer.alloc(size);
  for (let i = 0; i < size; i++) buffer[i] = i % 251;
  return buffer;
}

/** One uncompressed gRPC message: flag byte 0, 4-byte big-endian length, then the payload. */
function frame(payload) {
  const out = Buffer.allocUnsafe(5 + payload.length);
  out.writeUInt8(0, 0);
  out.writeUInt32BE(payload.length, 1);
  payload.copy(out, 5);
  return out;
}

/** True when `body` is exactly one uncompressed gRPC message (what the floor server accepts). */
function isSingleFrame(body) {
  return body.length >= 5 && body[0] === 0 && body.readUInt32BE(1) === body.length - 5;
}

module.exports = {
  UNARY_PATH,
  STREAM_PATH,
  identity,
  echoServiceDefinition,
  unlimitedMessages,
  payloadOf,
  frame,
  isSingleFrame,
};
