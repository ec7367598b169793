// Identity serializers: payloads stay the Buffers grpc-js hands over, never parsed or copied.
export { deserializeRaw, serializeRaw } from '@grpc-proxy/codec';
