import { Metadata } from '@grpc/grpc-js';
import type { ProxyCall } from '@grpc-proxy/handler';

/** A `ProxyCall` of `method` for director specs: no metadata, no deadline, no first message. */
export function fakeCall(method: string): ProxyCall {
  return {
    method,
    service: method.split('/')[1] ?? '',
    metadata: new Metadata(),
    peer: 'ipv4:127.0.0.1:1',
    authority: 'proxy',
    deadline: Infinity,
    signal: new AbortController().signal,
    firstMessage: () => Promise.resolve(null),
  };
}
