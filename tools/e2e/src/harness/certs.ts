import { createTestPki as createPki, type CertFiles as PkiFiles } from '@grpc-proxy/testing';

/** A certificate and its key, as file paths and PEM contents. */
export interface CertFiles {
  cert: string;
  key: string;
  certPem: Buffer;
  keyPem: Buffer;
}

/** Throwaway PKI for the TLS cases, in a temporary directory. */
export interface TestPki {
  dir: string;
  /** The CA that signs the proxy's server certificate and the good client certificate. */
  ca: CertFiles;
  /** Server certificate for 127.0.0.1 / localhost, signed by `ca`. */
  server: CertFiles;
  /** Client certificate signed by `ca`. */
  client: CertFiles;
  /** A CA nobody trusts, and a client certificate it signed. */
  rogueCa: CertFiles;
  rogueClient: CertFiles;
  /** A separate private CA for backends, and a backend certificate for 127.0.0.1 it signed. */
  backendCa: CertFiles;
  backend: CertFiles;
  /** Deletes the directory. */
  remove(): void;
}

function asFiles(files: PkiFiles): CertFiles {
  return { cert: files.certFile, key: files.keyFile, certPem: files.cert, keyPem: files.key };
}

/** Issues every certificate the TLS cases need, with the test kit's throw-away PKI. */
export function createTestPki(): TestPki {
  const pki = createPki();
  try {
    const ca = pki.ca('ca');
    const rogueCa = pki.ca('rogue-ca');
    const backendCa = pki.ca('backend-ca');
    return {
      dir: pki.dir,
      ca: asFiles(ca),
      server: asFiles(pki.leaf('server', ca, 'serverAuth')),
      client: asFiles(pki.leaf('client', ca, 'clientAuth')),
      rogueCa: asFiles(rogueCa),
      rogueClient: asFiles(pki.leaf('rogue-client', rogueCa, 'clientAuth')),
      backendCa: asFiles(backendCa),
      backend: asFiles(pki.leaf('backend', backendCa, 'serverAuth')),
      remove: () => pki.remove(),
    };
  } catch (error) {
    pki.remove();
    throw error;
  }
}
