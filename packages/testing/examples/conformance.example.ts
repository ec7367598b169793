import { describeProxyConformance } from '@grpc-proxy/testing';
import { startMyProxy } from './my-proxy';

// One jest test per conformance case, against your proxy in front of a fresh echo server.
describeProxyConformance('my proxy', {
  startProxy: async (backendAddress) => {
    // Your proxy: listening on 127.0.0.1:0, forwarding every call to backendAddress.
    const proxy = await startMyProxy(backendAddress);
    return { address: proxy.address, close: () => proxy.close() };
  },
  // What it does differently on purpose: a grpc-js based proxy decompresses messages.
  declared: { inflatesCompressedMessages: true },
  // skip: ['stress'], // while you work on something
});
