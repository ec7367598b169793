/** The test kit's full conformance suite against the http2 engine: every case, no skips. */
import { describeProxyConformance } from '@grpc-proxy/testing';
import { startHttp2Proxy } from './test-support/proxy';

describeProxyConformance('http2 engine', {
  startProxy: async (backendAddress) => {
    const running = await startHttp2Proxy(() => ({ backend: { target: backendAddress } }));
    return { address: running.address, close: running.close };
  },
});
