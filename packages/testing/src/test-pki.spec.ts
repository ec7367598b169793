import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createTestPki, type TestPki } from './test-pki';

describe('createTestPki', () => {
  let pki: TestPki | undefined;
  afterEach(() => pki?.remove());

  it('issues a CA and leaves it signed, for localhost and 127.0.0.1, with the asked usage', () => {
    pki = createTestPki();
    const ca = pki.ca('root');
    const server = pki.leaf('server', ca, 'serverAuth');
    const client = pki.leaf('client', ca, 'clientAuth');

    const caCert = new X509Certificate(ca.cert);
    expect(caCert.ca).toBe(true);
    expect(caCert.subject).toBe('CN=root');
    for (const [leaf, usage] of [
      [server, '1.3.6.1.5.5.7.3.1'],
      [client, '1.3.6.1.5.5.7.3.2'],
    ] as const) {
      const cert = new X509Certificate(leaf.cert);
      expect(cert.ca).toBe(false);
      expect(cert.checkIssued(caCert)).toBe(true);
      expect(cert.verify(caCert.publicKey)).toBe(true);
      expect(cert.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
      expect(cert.keyUsage).toEqual([usage]);
      expect(cert.checkPrivateKey(createPrivateKey(leaf.key))).toBe(true);
      expect(existsSync(leaf.certFile) && existsSync(leaf.keyFile)).toBe(true);
    }
  });

  it('keeps CAs apart and removes every file', () => {
    pki = createTestPki();
    const leaf = pki.leaf('leaf', pki.ca('one'), 'clientAuth');
    const other = new X509Certificate(pki.ca('two').cert);
    expect(new X509Certificate(leaf.cert).checkIssued(other)).toBe(false);
    const dir = pki.dir;
    pki.remove();
    pki = undefined;
    expect(existsSync(dir)).toBe(false);
  });
});
