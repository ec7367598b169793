/**
 * The test kit's peek cases (`describePeekConformance`) against the http2 engine: its director
 * awaits `ProxyCall.firstMessage()` and routes on the first request, with `{ target }` routes
 * (the kit's default) and with `createBackend` backends of `@grpc-proxy/director`.
 */
import { createBackend } from '@grpc-proxy/director';
import { describePeekConformance } from '@grpc-proxy/testing';
import { startHttp2Proxy } from './test-support/proxy';

describePeekConformance('http2 engine peek, { target } routes', {
  startProxy: async (director, { maxReceiveMessageLength }) => {
    const running = await startHttp2Proxy(director, { maxReceiveMessageLength });
    return { address: running.address, close: running.close };
  },
});

describePeekConformance('http2 engine peek, createBackend backends', {
  backend: (address) => createBackend(address),
  startProxy: async (director, { maxReceiveMessageLength }) => {
    const running = await startHttp2Proxy(director, { maxReceiveMessageLength });
    return { address: running.address, close: running.close };
  },
});
