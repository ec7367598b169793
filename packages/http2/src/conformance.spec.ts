/**
 * The test kit's full conformance suite against the http2 engine, every case and no skips: with a
 * plain `{ target }` route, and through directors of `@grpc-proxy/director` (a `createBackend`
 * backend, which carries its target, behind `roundRobin`), unchanged from the grpc-js engine.
 */
import { createBackend, roundRobin } from '@grpc-proxy/director';
import { describeProxyConformance } from '@grpc-proxy/testing';
import { startHttp2Proxy } from './test-support/proxy';

describeProxyConformance('http2 engine, { target } routes', {
  startProxy: async (backendAddress) => {
    const running = await startHttp2Proxy(() => ({ backend: { target: backendAddress } }));
    return { address: running.address, close: running.close };
  },
});

describeProxyConformance('http2 engine, roundRobin over a createBackend backend', {
  startProxy: async (backendAddress) => {
    const director = roundRobin([createBackend(backendAddress, { name: 'conformance' })]);
    const running = await startHttp2Proxy(director);
    return {
      address: running.address,
      close: async () => {
        await running.close();
        director.close();
      },
    };
  },
});
