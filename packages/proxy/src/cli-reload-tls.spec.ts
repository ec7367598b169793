import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { credentials, status } from '@grpc/grpc-js';
import {
  createTestPki,
  startEchoServer,
  type CertFiles,
  type EchoServerHandle,
  type TestPki,
} from '@grpc-proxy/testing';
import { startListening, stopCommands } from './test-support/command-run';
import { answeredBy, echoClients } from './test-support/echo-clients';

describe('grpc-proxy command: certificate rotation on reload (in-process)', () => {
  let pki: TestPki;
  let oldCa: CertFiles;
  let newCa: CertFiles;
  let backend: EchoServerHandle | undefined;
  const clients = echoClients();

  beforeEach(() => {
    pki = createTestPki();
    oldCa = pki.ca('old-ca');
    newCa = pki.ca('new-ca');
    pki.leaf('proxy', oldCa, 'serverAuth'); // proxy.crt / proxy.key, named in the config
  });
  afterEach(async () => {
    clients.closeAll();
    await stopCommands();
    await backend?.close();
    backend = undefined;
    pki.remove();
  });

  /** A TLS client that trusts only `ca`. */
  const trusting = (address: string, ca: CertFiles) =>
    clients.connect(address, {
      credentials: credentials.createSsl(ca.cert),
      channelOptions: { 'grpc.ssl_target_name_override': 'localhost' },
    });

  async function proxyWithRotatedCertificate(engine: string) {
    backend = await startEchoServer({ name: 'backend' });
    const file = path.join(pki.dir, 'proxy.yaml');
    writeFileSync(
      file,
      `engine: ${engine}\nlisten: 127.0.0.1:0\ntls: { cert: proxy.crt, key: proxy.key }\n` +
        `backends: [{ name: b, targets: ["${backend.address}"] }]\n`,
    );
    const { run, addresses } = await startListening(['--config', file]);
    const address = addresses[0];
    const before = trusting(address, oldCa);
    expect(await answeredBy(before)).toBe('backend');

    pki.leaf('proxy', newCa, 'serverAuth'); // the same files, a certificate of another CA
    run.signal('SIGHUP');
    const reloaded = await run.waitForLog((line) => line.msg === 'config reloaded', 'the reload');
    return { address, before, reloaded };
  }

  it.each(['grpc-js', 'http2'])(
    '%s engine: new connections get the new certificate, open ones keep working',
    async (engine) => {
      const { address, before, reloaded } = await proxyWithRotatedCertificate(engine);
      expect(reloaded).toMatchObject({ level: 30, changed: ['tls'], restartRequired: [] });

      expect(await answeredBy(trusting(address, newCa))).toBe('backend');
      expect(await answeredBy(trusting(address, oldCa))).toBe(status.UNAVAILABLE);
      // The connection made before the rotation keeps its session.
      expect(await answeredBy(before)).toBe('backend');
    },
  );
});
