import { createTestPki, type CertFiles, type TestPki } from '@grpc-proxy/testing';

/** The certificates of the TLS specs: a CA, a server and a client it signed, and a stranger. */
export interface TestCerts {
  readonly ca: CertFiles;
  /** Valid for localhost and 127.0.0.1. */
  readonly server: CertFiles;
  readonly client: CertFiles;
  /** Another CA, and a client certificate it signed. */
  readonly otherCa: CertFiles;
  readonly stranger: CertFiles;
  /** A server certificate (localhost, 127.0.0.1) the other CA signed: a rotated certificate. */
  readonly rotated: CertFiles;
}

/** Registers beforeAll/afterAll making a throw-away PKI for the file's tests, then removing it. */
export function useTestCerts(): TestCerts {
  const certs = {} as { -readonly [K in keyof TestCerts]: TestCerts[K] };
  let pki: TestPki | undefined;
  beforeAll(() => {
    pki = createTestPki();
    certs.ca = pki.ca('ca');
    certs.server = pki.leaf('server', certs.ca, 'serverAuth');
    certs.client = pki.leaf('client', certs.ca, 'clientAuth');
    certs.otherCa = pki.ca('other-ca');
    certs.stranger = pki.leaf('stranger', certs.otherCa, 'clientAuth');
    certs.rotated = pki.leaf('rotated', certs.otherCa, 'serverAuth');
  });
  afterAll(() => pki?.remove());
  return certs;
}
