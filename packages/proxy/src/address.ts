/** Splits `host:port` or `[v6]:port` into the parts `net.Server.listen` takes. */
export function splitHostPort(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  if (colon <= 0) throw new TypeError(`not a host:port address: ${JSON.stringify(address)}`);
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(address.slice(colon + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(`not a valid port in ${JSON.stringify(address)}`);
  }
  return { host, port };
}

/** Joins a host and a port, bracketing IPv6 hosts. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
