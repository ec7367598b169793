/** TLS (and mutual TLS) towards backends, from PEM options both engines can use. */
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import { createBackend, roundRobin } from '@grpc-proxy/director';
import { createProxyServer, type StreamDirector } from '@grpc-proxy/handler';
import {
  callEcho,
  createEchoClient,
  echoRequest,
  startEchoServer,
  type EchoServerHandle,
  type EchoServiceClient,
} from '@grpc-proxy/testing';
import { useTestCerts } from './test-support/certs';
import { startHttp2Proxy, type RunningProxy } from './test-support/proxy';

describe('TLS towards backends', () => {
  const certs = useTestCerts();
  let backend: EchoServerHandle;
  let proxy: RunningProxy | undefined;
  const clients: EchoServiceClient[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await proxy?.close();
    proxy = undefined;
    backend.forceClose();
  });

  async function startBackend(mutual: boolean): Promise<void> {
    const pair = [{ cert_chain: certs.server.cert, private_key: certs.server.key }];
    backend = await startEchoServer({
      name: 'tls-backend',
      credentials: ServerCredentials.createSsl(mutual ? certs.ca.cert : null, pair, mutual),
    });
  }

  async function callThrough(director: StreamDirector) {
    proxy = await startHttp2Proxy(director);
    const client = createEchoClient(proxy.address);
    clients.push(client);
    return callEcho(client, echoRequest({ payload: Buffer.from('tls') }), {
      options: { deadline: Date.now() + 5000 },
    });
  }

  it('connects over TLS, checking the certificate against the target IP or serverName', async () => {
    await startBackend(false);
    const byIp = await callThrough(() => ({
      backend: { target: backend.address, tls: { ca: certs.ca.cert } },
    }));
    expect([byIp.status.code, byIp.responses[0]?.serverName]).toEqual([status.OK, 'tls-backend']);
    await proxy?.close();
    const tls = { ca: certs.ca.cert, serverName: 'localhost' };
    const byName = await callThrough(() => ({ backend: { target: backend.address, tls } }));
    expect(byName.status.code).toBe(status.OK);
  });

  it('refuses a backend whose certificate another CA signed, as UNAVAILABLE naming it', async () => {
    await startBackend(false);
    const outcome = await callThrough(() => ({
      backend: { name: 'b', target: backend.address, tls: { ca: certs.otherCa.cert } },
    }));
    expect(outcome.status.code).toBe(status.UNAVAILABLE);
    expect(outcome.status.details).toMatch(/^grpc-proxy: backend b unavailable: /);
  });

  it('presents a client certificate to a backend under mutual TLS', async () => {
    await startBackend(true);
    const tls = { ca: certs.ca.cert, cert: certs.client.cert, key: certs.client.key };
    const outcome = await callThrough(() => ({ backend: { target: backend.address, tls } }));
    expect(outcome.status.code).toBe(status.OK);
  });

  it('uses one createBackend backend with TLS on both engines', async () => {
    await startBackend(false);
    const director = roundRobin([
      createBackend(backend.address, {
        name: 'secured',
        tls: { ca: certs.ca.cert, serverName: 'localhost' },
      }),
    ]);
    const grpcJs: Server = createProxyServer({ director });
    try {
      expect((await callThrough(director)).status.code).toBe(status.OK);
      const port = await new Promise<number>((resolve, reject) =>
        grpcJs.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
          error ? reject(error) : resolve(bound),
        ),
      );
      const client = createEchoClient(`127.0.0.1:${port}`);
      clients.push(client);
      expect((await callEcho(client, echoRequest())).status.code).toBe(status.OK);
    } finally {
      grpcJs.forceShutdown();
      director.close();
    }
  });
});
