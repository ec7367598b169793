import { readFileSync } from 'node:fs';
import {
  ServerCredentials,
  credentials,
  type ChannelCredentials,
  type ChannelOptions,
} from '@grpc/grpc-js';
import type { BackendTlsConfig, ServerTlsConfig } from './config/types';

/**
 * Credentials for the proxy's listeners: plaintext without `tls`; TLS with the certificate and
 * key; mutual TLS when `clientCa` is given (clients without a certificate signed by it fail the
 * handshake, `checkClientCertificate` on).
 */
export function serverCredentials(tls: ServerTlsConfig | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  const keyCertPairs = [{ private_key: readFileSync(tls.key), cert_chain: readFileSync(tls.cert) }];
  if (tls.clientCa === undefined) return ServerCredentials.createSsl(null, keyCertPairs, false);
  return ServerCredentials.createSsl(readFileSync(tls.clientCa), keyCertPairs, true);
}

/** Channel credentials and options for one backend: plaintext without `tls`. */
export function backendCredentials(tls: BackendTlsConfig | undefined): {
  credentials: ChannelCredentials;
  channelOptions: ChannelOptions;
} {
  if (!tls) return { credentials: credentials.createInsecure(), channelOptions: {} };
  const read = (file: string | undefined) => (file === undefined ? null : readFileSync(file));
  return {
    credentials: credentials.createSsl(read(tls.ca), read(tls.key), read(tls.cert)),
    // The name the backend certificate is checked against (and sent as SNI).
    channelOptions:
      tls.serverName === undefined ? {} : { 'grpc.ssl_target_name_override': tls.serverName },
  };
}
