/**
 * The test kit's mirror cases (`describeMirrorConformance`) against the grpc-js engine
 * (`createProxyServer`): every call goes to a grpc-js client of the echo primary and is copied to
 * the mirror the case names; the kit's `observer.onMirrorEnd` checks one report per copy.
 */
import { describeMirrorConformance } from '@grpc-proxy/testing';
import { createBackendClient } from './backend-client';
import { startProxy } from './test-support/proxy-fixture';

describeMirrorConformance('grpc-js engine mirror, createProxyServer', {
  backend: (address) => createBackendClient(address),
  startProxy: async (director, settings) => {
    const running = await startProxy(director, settings);
    return { address: running.target, close: running.close };
  },
});
