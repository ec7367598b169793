import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { joinHostPort, splitHostPort } from './address';
import type { ReloadResult } from './reload';

/** What the admin listener asks of the proxy. */
export interface AdminSources {
  /** What `/metrics` serves: a prom-client `Registry`, or anything that renders the same way. */
  readonly registry: { readonly contentType: string; metrics(): Promise<string> };
  /** Why the proxy is not ready (draining, no backend serving...), or `undefined` when ready. */
  notReadyReason(): string | undefined | Promise<string | undefined>;
  /**
   * Reloads the config, for `POST /reload`: 200 with the result as JSON on success, 400 with
   * the reason (a config's issues as `check-config` lists them) on failure. Default: none
   * (`POST /reload` answers 404).
   */
  reload?(): Promise<ReloadResult>;
}

/** A running admin listener. */
export interface AdminServer {
  /** `host:port` it listens on (the real port when 0 was asked). */
  readonly address: string;
  /** Stops listening and ends idle keep-alive connections. */
  close(): Promise<void>;
}

function send(response: ServerResponse, code: number, contentType: string, body: string): void {
  response.writeHead(code, { 'content-type': contentType, 'cache-control': 'no-store' });
  response.end(body);
}

async function handle(sources: AdminSources, request: IncomingMessage, response: ServerResponse) {
  const path = (request.url ?? '/').split('?')[0];
  if (path === '/reload' && sources.reload) {
    if (request.method !== 'POST') return send(response, 405, 'text/plain', 'use POST /reload\n');
    const result = await sources.reload();
    return result.result === 'success'
      ? send(response, 200, 'application/json', `${JSON.stringify(result)}\n`)
      : send(response, 400, 'text/plain', `${result.error}\n`);
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return send(response, 405, 'text/plain', 'method not allowed\n');
  }
  switch (path) {
    case '/metrics':
      return send(response, 200, sources.registry.contentType, await sources.registry.metrics());
    case '/healthz':
      // Liveness: the event loop answers. Restarting a draining proxy would not help anyone.
      return send(response, 200, 'text/plain', 'ok\n');
    case '/readyz': {
      const reason = await sources.notReadyReason();
      return reason === undefined
        ? send(response, 200, 'text/plain', 'ready\n')
        : send(response, 503, 'text/plain', `not ready: ${reason}\n`);
    }
    default:
      return send(response, 404, 'text/plain', 'not found: try /metrics, /healthz or /readyz\n');
  }
}

/**
 * Starts the admin HTTP listener: `GET /metrics` (Prometheus text format), `GET /healthz`
 * (200 while the process runs), `GET /readyz` (200 when ready to take traffic, 503 with the
 * reason otherwise), and `POST /reload` when `sources.reload` is given.
 */
export async function startAdminServer(
  listen: string,
  sources: AdminSources,
): Promise<AdminServer> {
  const { host, port } = splitHostPort(listen);
  const server: Server = createServer((request, response) => {
    handle(sources, request, response).catch((error: unknown) => {
      send(response, 500, 'text/plain', `error: ${(error as Error).message}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return {
    address: joinHostPort(bound.address, bound.port),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
