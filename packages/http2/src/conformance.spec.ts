/**
 * The test kit's full conformance suite against the http2 engine, every case and no skips: with a
 * plain `{ target }` route, and through directors of `@grpc-proxy/director` (a `createBackend`
 * backend, which carries its target, behind `roundRobin`), unchanged from the grpc-js engine;
 * and over TLS on both legs.
 */
import { createBackend, roundRobin } from '@grpc-proxy/director';
import { ServerCredentials, credentials } from '@grpc/grpc-js';
import { createTestPki, describeProxyConformance } from '@grpc-proxy/testing';
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

// TLS on both legs: clients to the proxy, the proxy to a TLS backend. The options are read when
// the suite is declared, so the throw-away PKI is made at once (openssl runs synchronously).
const pki = createTestPki();
const ca = pki.ca('ca');
const server = pki.leaf('server', ca, 'serverAuth');
afterAll(() => pki.remove());
const clientTls = {
  credentials: credentials.createSsl(ca.cert),
  // The certificate's name: Node 26 refuses an IP address as TLS server name.
  channelOptions: { 'grpc.ssl_target_name_override': 'localhost' },
};

describeProxyConformance('http2 engine over TLS, both legs', {
  client: clientTls,
  backendClient: clientTls,
  backend: {
    credentials: ServerCredentials.createSsl(
      null,
      [{ cert_chain: server.cert, private_key: server.key }],
      false,
    ),
  },
  startProxy: async (backendAddress) => {
    const tls = { ca: ca.cert, serverName: 'localhost' };
    const running = await startHttp2Proxy(() => ({ backend: { target: backendAddress, tls } }), {
      tls: { cert: server.cert, key: server.key },
    });
    return { address: running.address, close: running.close };
  },
});
