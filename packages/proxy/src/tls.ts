import { readFileSync } from 'node:fs';
import type { SecureContextOptions } from 'node:tls';
import { ServerCredentials } from '@grpc/grpc-js';
import type { BackendTls } from '@grpc-proxy/handler';
import type { Http2ProxyTls } from '@grpc-proxy/http2';
import type { BackendTlsConfig, ServerTlsConfig } from './config/types';

/** The listeners' certificate, key and client CA read from their files, as PEM. */
export function serverTlsPem(tls: ServerTlsConfig): Http2ProxyTls {
  return {
    cert: readFileSync(tls.cert),
    key: readFileSync(tls.key),
    ...(tls.clientCa !== undefined && { clientCa: readFileSync(tls.clientCa) }),
  };
}

/**
 * Credentials for the proxy's grpc-js listeners: plaintext without `tls`; TLS with the
 * certificate and key; mutual TLS when `clientCa` is given (clients without a certificate signed
 * by it fail the handshake, `checkClientCertificate` on).
 */
export function serverCredentials(tls: ServerTlsConfig | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  const pem = serverTlsPem(tls);
  const keyCertPairs = [{ private_key: pem.key as Buffer, cert_chain: pem.cert as Buffer }];
  if (pem.clientCa === undefined) return ServerCredentials.createSsl(null, keyCertPairs, false);
  return ServerCredentials.createSsl(pem.clientCa as Buffer, keyCertPairs, true);
}

/**
 * TLS towards one backend as PEM (what `createBackend` takes, for both engines); `undefined`:
 * plaintext.
 */
export function backendTlsPem(tls: BackendTlsConfig | undefined): BackendTls | undefined {
  if (!tls) return undefined;
  return {
    ...(tls.ca !== undefined && { ca: readFileSync(tls.ca) }),
    ...(tls.cert !== undefined && { cert: readFileSync(tls.cert) }),
    ...(tls.key !== undefined && { key: readFileSync(tls.key) }),
    ...(tls.serverName !== undefined && { serverName: tls.serverName }),
  };
}

/** What grpc-js's `ServerCredentials` has for certificate rotation (1.11 to 1.14). */
interface RotatableCredentials {
  updateSecureContextOptions?(options: SecureContextOptions | null): void;
  /** grpc-js >= 1.12: the secure context options alone. */
  _getSecureContextOptions?(): SecureContextOptions | null;
  /** grpc-js 1.11: every TLS option. */
  _getSettings?(): SecureContextOptions | null;
}

/**
 * Gives the listeners bound with `credentials` (from {@link serverCredentials}) a new
 * certificate, key and client CA for their new connections: grpc-js calls `setSecureContext` on
 * each of its TLS servers when its credentials' context options are updated (the hook its
 * certificate providers use). The mode (TLS, mutual TLS) stays what the credentials were made
 * with.
 *
 * @throws Error when this grpc-js has no such hook (a canary spec runs it on the pinned grpc-js)
 */
export function updateServerCredentials(
  credentials: ServerCredentials,
  tls: ServerTlsConfig,
): void {
  const rotatable = credentials as unknown as RotatableCredentials;
  if (typeof rotatable.updateSecureContextOptions !== 'function') {
    throw new Error(
      'this @grpc/grpc-js cannot change a listening certificate (no updateSecureContextOptions)',
    );
  }
  const current = rotatable._getSecureContextOptions?.() ?? rotatable._getSettings?.() ?? {};
  const pem = serverTlsPem(tls);
  rotatable.updateSecureContextOptions({
    ...current,
    cert: [pem.cert],
    key: [pem.key],
    ...(pem.clientCa !== undefined && { ca: pem.clientCa }),
  });
}
