import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** A certificate and its key, as files and as PEM buffers. */
export interface CertFiles {
  /** Path of the PEM certificate. */
  readonly certFile: string;
  /** Path of the PEM private key (EC P-256, unencrypted). */
  readonly keyFile: string;
  /** The certificate's PEM contents. */
  readonly cert: Buffer;
  /** The key's PEM contents. */
  readonly key: Buffer;
}

/**
 * A throw-away PKI for TLS and mutual-TLS tests, in a temporary directory. Certificates are
 * valid for 2 days. Call `remove()` when done (e.g. in `afterAll`).
 */
export interface TestPki {
  /** The temporary directory holding every file. */
  readonly dir: string;
  /** Creates a self-signed CA named `name`. */
  ca(name: string): CertFiles;
  /** Creates a leaf certificate signed by `ca`, valid for `localhost` and 127.0.0.1. */
  leaf(name: string, ca: CertFiles, usage: 'serverAuth' | 'clientAuth'): CertFiles;
  /** Deletes the directory. */
  remove(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/**
 * Creates a {@link TestPki}. Certificates are issued by the `openssl` command (Node cannot issue
 * X.509 certificates), which must be on the PATH.
 */
export function createTestPki(): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), 'grpc-proxy-pki-'));
  const files = (name: string): CertFiles => {
    const certFile = path.join(dir, `${name}.crt`);
    const keyFile = path.join(dir, `${name}.key`);
    return { certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
  };
  /** A fresh EC P-256 key in `<name>.key`, and a request (`extra`) for a certificate on it. */
  const newKeyRequest = (name: string, extra: string[]): void =>
    openssl(dir, [
      'req',
      ...extra,
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-subj',
      `/CN=${name}`,
    ]);
  return {
    dir,
    ca(name) {
      newKeyRequest(name, [
        '-x509',
        '-out',
        `${name}.crt`,
        '-days',
        '2',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ]);
      return files(name);
    },
    leaf(name, ca, usage) {
      newKeyRequest(name, ['-out', `${name}.csr`]);
      writeFileSync(
        path.join(dir, `${name}.ext`),
        `subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=${usage}\nbasicConstraints=CA:FALSE\n`,
      );
      openssl(dir, [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        ca.certFile,
        '-CAkey',
        ca.keyFile,
        '-CAcreateserial',
        '-out',
        `${name}.crt`,
        '-days',
        '2',
        '-extfile',
        `${name}.ext`,
      ]);
      return files(name);
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
