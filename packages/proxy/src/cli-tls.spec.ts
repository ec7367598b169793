import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ServerCredentials, credentials, status } from '@grpc/grpc-js';
import {
  createTestPki,
  startEchoServer,
  type CertFiles,
  type EchoServerHandle,
  type TestPki,
} from '@grpc-proxy/testing';
import { startListening, stopCommands } from './test-support/command-run';
import { answeredBy, echoClients } from './test-support/echo-clients';

describe.each(['grpc-js', 'http2'])(
  'grpc-proxy command --engine %s: TLS (in-process)',
  (engine) => {
    let pki: TestPki;
    let ca: CertFiles;
    let backendCert: CertFiles;
    let goodClient: CertFiles;
    let rogueClient: CertFiles;
    let backend: EchoServerHandle | undefined;
    const clients = echoClients();

    beforeAll(() => {
      pki = createTestPki();
      ca = pki.ca('test-ca');
      const rogueCa = pki.ca('rogue-ca');
      pki.leaf('proxy', ca, 'serverAuth'); // proxy.crt / proxy.key, named in the configs below
      backendCert = pki.leaf('backend', ca, 'serverAuth');
      goodClient = pki.leaf('good-client', ca, 'clientAuth');
      rogueClient = pki.leaf('rogue-client', rogueCa, 'clientAuth');
    });
    afterAll(() => pki.remove());
    afterEach(async () => {
      clients.closeAll();
      await stopCommands();
      await backend?.close();
      backend = undefined;
    });

    function client(address: string, identity?: CertFiles, caCert = ca.cert) {
      const channelCredentials = credentials.createSsl(
        caCert,
        identity?.key ?? null,
        identity?.cert ?? null,
      );
      return clients.connect(address, {
        credentials: channelCredentials,
        channelOptions: { 'grpc.ssl_target_name_override': 'localhost' },
      });
    }

    it('requires a client certificate signed by the client CA; a rejected handshake does not disturb other clients', async () => {
      // The backend speaks TLS too: the proxy checks it against the CA (backend TLS config).
      backend = await startEchoServer({
        name: 'tls-backend',
        credentials: ServerCredentials.createSsl(null, [
          { private_key: backendCert.key, cert_chain: backendCert.cert },
        ]),
      });
      const config = path.join(pki.dir, 'proxy.yaml');
      writeFileSync(
        config,
        `
listen: 127.0.0.1:0
tls: { cert: proxy.crt, key: proxy.key, clientCa: test-ca.crt }
backends:
  - name: secure
    targets: ["${backend.address}"]
    tls: { ca: test-ca.crt, serverName: localhost }
`,
      );
      const { addresses } = await startListening(['--engine', engine, '--config', config]);
      const address = addresses[0];

      const good = client(address, goodClient);
      expect(await answeredBy(good)).toBe('tls-backend');

      expect(await answeredBy(client(address, rogueClient))).toBe(status.UNAVAILABLE);
      expect(await answeredBy(client(address))).toBe(status.UNAVAILABLE);

      // The accepted client's connection is unaffected, and new accepted clients still get in.
      expect(await answeredBy(good)).toBe('tls-backend');
      expect(await answeredBy(client(address, goodClient))).toBe('tls-backend');
      // Only the accepted client's two calls and the last one reached the backend.
      expect(backend.calls.length).toBe(3);
    });

    it('serves TLS without client certificates when no client CA is set', async () => {
      backend = await startEchoServer({ name: 'plain-backend' });
      const { addresses } = await startListening([
        '--engine',
        engine,
        '--config',
        writeTlsOnlyConfig(pki.dir, backend.address),
      ]);
      expect(await answeredBy(client(addresses[0]))).toBe('plain-backend');
      expect(await answeredBy(client(addresses[0], undefined, pki.ca('other-ca').cert))).toBe(
        status.UNAVAILABLE,
      );
    });
  },
);

function writeTlsOnlyConfig(dir: string, backendAddress: string): string {
  const file = path.join(dir, 'tls-only.yaml');
  writeFileSync(
    file,
    `listen: 127.0.0.1:0\ntls: { cert: proxy.crt, key: proxy.key }\nbackends: [{ name: b, targets: ["${backendAddress}"] }]\n`,
  );
  return file;
}
