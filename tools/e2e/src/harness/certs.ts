import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

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

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function files(dir: string, name: string): CertFiles {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  return { cert, key, certPem: readFileSync(cert), keyPem: readFileSync(key) };
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function makeCa(dir: string, name: string): CertFiles {
  openssl(dir, [
    'req',
    '-x509',
    ...EC_KEY,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-days',
    '2',
    '-subj',
    `/CN=e2e ${name}`,
  ]);
  return files(dir, name);
}

function makeLeaf(dir: string, name: string, ca: string, extensions: string): CertFiles {
  writeFileSync(path.join(dir, `${name}.ext`), extensions);
  openssl(dir, [
    'req',
    ...EC_KEY,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=e2e ${name}`,
  ]);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-out',
    `${name}.crt`,
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
  ]);
  return files(dir, name);
}

const SERVER_EXT =
  'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n';
const CLIENT_EXT = 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n';

/** Generates every certificate the TLS cases need with the `openssl` command (EC P-256, fast). */
export function createTestPki(): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), 'e2e-pki-'));
  try {
    const ca = makeCa(dir, 'ca');
    const rogueCa = makeCa(dir, 'rogue-ca');
    const backendCa = makeCa(dir, 'backend-ca');
    return {
      dir,
      ca,
      server: makeLeaf(dir, 'server', 'ca', SERVER_EXT),
      client: makeLeaf(dir, 'client', 'ca', CLIENT_EXT),
      rogueCa,
      rogueClient: makeLeaf(dir, 'rogue-client', 'rogue-ca', CLIENT_EXT),
      backendCa,
      backend: makeLeaf(dir, 'backend', 'backend-ca', SERVER_EXT),
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
