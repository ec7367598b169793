/** TLS and mutual TLS on the proxy's listening side (ALPN h2), with grpc-js clients. */
import { credentials, status } from '@grpc/grpc-js';
import {
  callEcho,
  createEchoClient,
  echoRequest,
  startEchoServer,
  type CertFiles,
  type EchoServerHandle,
  type EchoServiceClient,
} from '@grpc-proxy/testing';
import { createHttp2Proxy, type Http2Proxy } from './server';
import { useTestCerts } from './test-support/certs';

describe('TLS towards clients', () => {
  const certs = useTestCerts();
  let backend: EchoServerHandle;
  let proxy: Http2Proxy | undefined;
  const clients: EchoServiceClient[] = [];

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
      tls: { cert: certs.server.cert, key: certs.server.key, clientCa },
    });
    return proxy.listen('127.0.0.1:0');
  }

  async function call(address: string, cert?: CertFiles, trusted = certs.ca.cert) {
    const client = createEchoClient(address, {
      credentials: credentials.createSsl(trusted, cert?.key, cert?.cert),
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
    const outcome = await call(await start(certs.ca.cert), certs.client);
    expect(outcome.status.code).toBe(status.OK);
  });

  it('refuses clients without a certificate, or with one another CA signed, under mutual TLS', async () => {
    const address = await start(certs.ca.cert);
    const [without, stranger] = await Promise.all([call(address), call(address, certs.stranger)]);
    expect([without.status.code, stranger.status.code]).toEqual([
      status.UNAVAILABLE,
      status.UNAVAILABLE,
    ]);
    expect((await backend.callCounts()).started).toBe(0);
  });

  it('gives new connections a rotated certificate (setTls); the old one is no longer offered', async () => {
    const address = await start();
    expect((await call(address)).status.code).toBe(status.OK);
    proxy!.setTls({ cert: certs.rotated.cert, key: certs.rotated.key });
    const [oldTrust, newTrust] = await Promise.all([
      call(address),
      call(address, undefined, certs.otherCa.cert),
    ]);
    expect([oldTrust.status.code, newTrust.status.code]).toEqual([status.UNAVAILABLE, status.OK]);
    expect(newTrust.responses[0].payload.toString()).toBe('over tls');
  });

  it('refuses setTls that would change the mode', async () => {
    await start();
    const mutual = { cert: certs.rotated.cert, key: certs.rotated.key, clientCa: certs.ca.cert };
    expect(() => proxy!.setTls(mutual)).toThrow(
      new TypeError('setTls cannot turn mutual TLS on or off: create a new proxy for that'),
    );
    const plaintext = createHttp2Proxy({ director: () => ({ backend: { target: 'x:1' } }) });
    expect(() => plaintext.setTls(mutual)).toThrow(
      new TypeError('setTls needs a proxy created with tls (plaintext cannot turn into TLS)'),
    );
    await plaintext.close(0);
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
