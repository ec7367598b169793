/** TLS and mutual TLS on the proxy's listening side (ALPN h2), with grpc-js clients. */
import { credentials, status } from '@grpc/grpc-js';
import {
  callEcho,
  createEchoClient,
  createTestPki,
  echoRequest,
  startEchoServer,
  type CertFiles,
  type EchoServerHandle,
  type EchoServiceClient,
  type TestPki,
} from '@grpc-proxy/testing';
import { createHttp2Proxy, type Http2Proxy } from './server';

describe('TLS towards clients', () => {
  let pki: TestPki;
  let ca: CertFiles;
  let otherCa: CertFiles;
  let serverCert: CertFiles;
  let clientCert: CertFiles;
  let strangerCert: CertFiles;
  let backend: EchoServerHandle;
  let proxy: Http2Proxy | undefined;
  const clients: EchoServiceClient[] = [];

  beforeAll(() => {
    pki = createTestPki();
    ca = pki.ca('ca');
    otherCa = pki.ca('other-ca');
    serverCert = pki.leaf('proxy', ca, 'serverAuth');
    clientCert = pki.leaf('client', ca, 'clientAuth');
    strangerCert = pki.leaf('stranger', otherCa, 'clientAuth');
  });

  afterAll(() => pki.remove());

  beforeEach(async () => {
    backend = await startEchoServer({ name: 'echo-backend' });
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await proxy?.close(0);
    proxy = undefined;
    backend.forceClose();
  });

  async function start(clientCa?: Buffer): Promise<string> {
    proxy = createHttp2Proxy({
      director: () => ({ backend: { target: backend.address } }),
      tls: { cert: serverCert.cert, key: serverCert.key, clientCa },
    });
    return proxy.listen('127.0.0.1:0');
  }

  async function call(address: string, cert?: CertFiles) {
    const client = createEchoClient(address, {
      credentials: credentials.createSsl(ca.cert, cert?.key, cert?.cert),
      // The certificate's name: Node 26 refuses an IP address as TLS server name.
      channelOptions: { 'grpc.ssl_target_name_override': 'localhost' },
    });
    clients.push(client);
    return callEcho(client, echoRequest({ payload: Buffer.from('over tls') }), {
      options: { deadline: Date.now() + 5000 },
    });
  }

  it('serves gRPC over TLS', async () => {
    const outcome = await call(await start());
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses[0].payload.toString()).toBe('over tls');
  });

  it('serves a client whose certificate the client CA signed, under mutual TLS', async () => {
    const outcome = await call(await start(ca.cert), clientCert);
    expect(outcome.status.code).toBe(status.OK);
  });

  it('refuses clients without a certificate, or with one another CA signed, under mutual TLS', async () => {
    const address = await start(ca.cert);
    const [without, stranger] = await Promise.all([call(address), call(address, strangerCert)]);
    expect([without.status.code, stranger.status.code]).toEqual([
      status.UNAVAILABLE,
      status.UNAVAILABLE,
    ]);
    expect((await backend.callCounts()).started).toBe(0);
  });

  it('refuses a plaintext client', async () => {
    const address = await start();
    const client = createEchoClient(address);
    clients.push(client);
    const outcome = await callEcho(client, echoRequest(), {
      options: { deadline: Date.now() + 5000 },
    });
    expect(outcome.status.code).toBe(status.UNAVAILABLE);
  });
});
