/**
 * The test kit's peek cases (`describePeekConformance`) against the grpc-js engine
 * (`createProxyServer`): its director awaits `ProxyCall.firstMessage()` and routes on the first
 * request, to grpc-js clients of the kit's two echo backends.
 */
import { describePeekConformance } from '@grpc-proxy/testing';
import { createBackendClient } from './backend-client';
import { startProxy } from './test-support/proxy-fixture';

describePeekConformance('grpc-js engine peek, createProxyServer', {
  // By design grpc-js inflates the messages it receives; the engine forwards them uncompressed.
  declared: { inflatesCompressedMessages: true },
  backend: (address) => createBackendClient(address),
  startProxy: async (director, { maxReceiveMessageLength }) => {
    const running = await startProxy(director, { maxReceiveMessageLength });
    return { address: running.target, close: running.close };
  },
});
