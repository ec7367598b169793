import { encodeMessage } from '@grpc-proxy/codec';

/** A length-prefixed gRPC message holding `hello`: the body of a raw HTTP/2 call. */
export const HELLO = encodeMessage(Buffer.from('hello'));
