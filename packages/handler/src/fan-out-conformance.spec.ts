/**
 * The test kit's fan-out cases (`describeFanOutConformance`) against the grpc-js engine
 * (`createProxyServer`): each call is fanned out to the backends its plan names, each a grpc-js
 * client of its address; the kit's `observer.onCallEnd` checks `CallReport.fanOut`.
 */
import { describeFanOutConformance } from '@grpc-proxy/testing';
import { createBackendClient } from './backend-client';
import { startProxy } from './test-support/proxy-fixture';

describeFanOutConformance('grpc-js engine fan-out, createProxyServer', {
  backend: (address) => createBackendClient(address),
  startProxy: async (director, settings) => {
    const running = await startProxy(director, settings);
    return { address: running.target, close: running.close };
  },
});
