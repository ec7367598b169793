/**
 * The test kit's mirror cases (`describeMirrorConformance`) against the http2 engine: every call
 * goes to an echo primary and is copied to the mirror the case names, with `{ target }` routes;
 * the kit's `observer.onMirrorEnd` checks one report per copy; then with `createBackend`
 * backends of `@grpc-proxy/director` and a mirror header of its own.
 */
import { createBackend } from '@grpc-proxy/director';
import { describeMirrorConformance } from '@grpc-proxy/testing';
import { startHttp2Proxy } from './test-support/proxy';

describeMirrorConformance('http2 engine mirror, { target } routes', {
  startProxy: async (director, settings) => {
    const running = await startHttp2Proxy(director, settings);
    return { address: running.address, close: running.close };
  },
});

describeMirrorConformance('http2 engine mirror, createBackend backends, own mirror header', {
  backend: (address) => createBackend(address),
  mirrorHeader: 'x-shadow-copy',
  startProxy: async (director, settings) => {
    const running = await startHttp2Proxy(director, settings);
    return { address: running.address, close: running.close };
  },
});
