import { isIP, Socket } from 'node:net';
import { connect } from 'node:tls';
import type { ConfigIssue } from './config-error';
import type { ProxyConfig } from './types';

/** grpc-js target schemes whose path is `host[:port]` (the first address, for `ipv4:`/`ipv6:`). */
const HOST_PORT_SCHEMES = new Set(['dns', 'ipv4', 'ipv6']);
/** grpc-js target schemes with no host: grpc-js names `localhost` in TLS. */
const HOSTLESS_SCHEMES = new Set(['unix', 'unix-abstract', 'vsock']);

let refusedByThisNode: boolean | undefined;

/**
 * Whether this Node refuses an IP address as TLS server name (SNI): Node 26 throws
 * `ERR_INVALID_ARG_VALUE` where earlier lines warn (DEP0123) and send it. Found out once, with a
 * `tls.connect` on a socket that never connects, destroyed at once. On lines that accept it, the
 * probe emits their one-time DEP0123 warning, which grpc-js's first such connection would.
 */
export function ipServerNameRefused(): boolean {
  if (refusedByThisNode === undefined) {
    const socket = new Socket();
    try {
      connect({ socket, servername: '127.0.0.1' }).destroy();
      refusedByThisNode = false;
    } catch (error) {
      refusedByThisNode = (error as { code?: unknown }).code === 'ERR_INVALID_ARG_VALUE';
    } finally {
      socket.destroy();
    }
  }
  return refusedByThisNode;
}

/**
 * The host grpc-js sends as TLS server name for `target` without `grpc.ssl_target_name_override`
 * (the host of the target's default authority); `undefined` for a target without a host.
 */
export function tlsHostOf(target: string): string | undefined {
  let authority = target;
  const scheme = /^([A-Za-z][\w+.-]*):(?:\/\/[^/]*\/)?(.*)$/.exec(target);
  if (scheme !== null && HOSTLESS_SCHEMES.has(scheme[1])) return undefined;
  if (scheme !== null && HOST_PORT_SCHEMES.has(scheme[1])) authority = scheme[2].split(',')[0];
  const bracketed = /^\[([^\]]+)\](?::\d*)?$/.exec(authority);
  if (bracketed !== null) return bracketed[1];
  const parts = authority.split(':');
  // One colon is host:port; more is a bare IPv6 address.
  return parts.length === 2 ? parts[0] : authority;
}

/**
 * Backend targets that cannot work on this Node: TLS without `tls.serverName` to an IP address,
 * which grpc-js would send as server name and Node 26 refuses (every call would fail
 * `UNAVAILABLE`). None on Node lines that accept an IP server name.
 */
export function ipServerNameIssues(config: ProxyConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  config.backends.forEach((backend, index) => {
    if (backend.tls === undefined || backend.tls.serverName !== undefined) return;
    backend.targets.forEach((target, targetIndex) => {
      const host = tlsHostOf(target);
      if (host === undefined || isIP(host) === 0 || !ipServerNameRefused()) return;
      issues.push({
        path: `backends[${index}].targets[${targetIndex}]`,
        message: `Node ${process.versions.node} refuses an IP address (${host}) as TLS server name: set backends[${index}].tls.serverName to a name in the backend's certificate, or use a DNS name`,
      });
    });
  });
  return issues;
}
