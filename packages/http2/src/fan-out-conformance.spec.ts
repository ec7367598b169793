/**
 * The test kit's fan-out cases (`describeFanOutConformance`) against the http2 engine: each call
 * is fanned out to the backends its plan names, first as `{ target }` routes, then as
 * `createBackend` backends of `@grpc-proxy/director`; the kit's `observer.onCallEnd` checks
 * `CallReport.fanOut`.
 */
import { createBackend } from '@grpc-proxy/director';
import { describeFanOutConformance } from '@grpc-proxy/testing';
import { startHttp2Proxy } from './test-support/proxy';

describeFanOutConformance('http2 engine fan-out, { target } routes', {
  startProxy: async (director, settings) => {
    const running = await startHttp2Proxy(director, settings);
    return { address: running.address, close: running.close };
  },
});

describeFanOutConformance('http2 engine fan-out, createBackend backends', {
  backend: (address) => createBackend(address),
  startProxy: async (director, settings) => {
    const running = await startHttp2Proxy(director, settings);
    return { address: running.address, close: running.close };
  },
});
