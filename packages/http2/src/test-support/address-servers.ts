/**
 * Servers on chosen loopback addresses sharing one port (127.0.0.1, 127.0.0.2... are all
 * loopback on Linux), for the addresses a backend name resolves to: an HTTP/2 backend that
 * answers with the address it was reached at, a sink that drops each connection, and a server
 * that accepts TCP and never speaks. Also: a request through the session pool.
 */
import { once } from 'node:events';
import {
  createSecureServer,
  createServer as createH2Server,
  type ClientHttp2Stream,
  type Http2Session,
} from 'node:http2';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Backend, BackendTls } from '@grpc-proxy/handler';
import { SessionPool, type PooledSession, type SessionOptions } from '../session-pool';
import { answerGrpc } from './raw-h2';

/** How a server behaves with each connection. */
export type ServerKind = 'backend' | 'sink' | 'silent';

/** One server on `host:port`. */
export interface AddressServer {
  readonly host: string;
  readonly port: number;
  /** Connections it accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

/**
 * Starts a server of `kind` on `host` (port `port`, 0: any free one). A `backend` answers every
 * request, once it ended, as a gRPC backend: one message `<its address> <the :authority it got>`
 * and status OK; over TLS (ALPN `h2`) with `tls`.
 */
export async function startAddressServer(
  kind: ServerKind,
  host: string,
  port = 0,
  tls?: { cert: Buffer; key: Buffer },
): Promise<AddressServer> {
  const sockets = new Set<Socket | Http2Session>();
  let connections = 0;
  let server: Server;
  if (kind === 'backend') {
    const h2 = tls === undefined ? createH2Server() : createSecureServer(tls);
    h2.on('session', (session) => {
      sockets.add(session);
      session.on('close', () => sockets.delete(session));
    });
    // Answers once the request ended: a request left open holds its session.
    h2.on('stream', (stream, headers) => {
      stream.on('error', () => undefined);
      stream.resume();
      stream.on('end', () => answerGrpc(stream, Buffer.from(`${host} ${headers[':authority']}`)));
    });
    server = h2;
  } else {
    server = createServer((socket) => {
      socket.on('error', () => undefined);
      if (kind === 'sink') socket.destroy();
      else sockets.add(socket); // silent: accepted, never a byte back
    });
  }
  server.on('connection', () => connections++);
  server.listen(port, host);
  await once(server, 'listening');
  return {
    host,
    port: (server.address() as AddressInfo).port,
    get connections() {
      return connections;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Starts one server per `kinds` entry, on 127.0.0.1, 127.0.0.2... in order, all on the same
 * port (the first one's).
 */
export async function startAddressServers(kinds: ServerKind[]): Promise<AddressServer[]> {
  const servers: AddressServer[] = [];
  for (const [index, kind] of kinds.entries()) {
    servers.push(await startAddressServer(kind, `127.0.0.${index + 1}`, servers[0]?.port ?? 0));
  }
  return servers;
}

/** A request through the pool, and the session it went on. */
export interface OpenRequest {
  readonly pooled: PooledSession;
  readonly stream: ClientHttp2Stream;
}

/** Opens a request through the pool; end its stream to get the answer of {@link answerOf}. */
export function openThrough(pool: SessionPool, target: string, tls?: BackendTls): OpenRequest {
  const pooled = pool.get(target, tls);
  const headers = { ':method': 'POST', ':path': '/x', ':authority': pooled.authority };
  return { pooled, stream: pooled.request(headers) };
}

/** What a request through the pool got: the body, or `failed: <why>`. */
export function requestThrough(
  pool: SessionPool,
  target: string,
  tls?: BackendTls,
): Promise<string> {
  const request = openThrough(pool, target, tls);
  request.stream.end();
  return answerOf(request);
}

/**
 * The message the request got (its body without the 5-byte prefix), or `failed: <why>` (the
 * connection attempt's error, if it failed).
 */
export async function answerOf({ pooled, stream }: OpenRequest): Promise<string> {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  let failure: Error | undefined;
  stream.on('error', (error: Error) => (failure = error));
  await new Promise((resolve) => stream.once('close', resolve)); // once() rejects on 'error'
  const why = pooled.failure?.message ?? failure?.message;
  if (why !== undefined) return `failed: ${why}`;
  return Buffer.concat(chunks).subarray(5).toString();
}

/** Session options of a pool under test: no idle timeout, no pings, Node's windows. */
export const POOL_OPTIONS: SessionOptions = {
  settings: {},
  idleTimeoutMs: 0,
  keepaliveMs: 0,
  keepaliveTimeoutMs: 20_000,
  connectionWindowSize: 65_535,
};

/** Pools and servers for a spec's tests, destroyed and closed after each test. */
export interface PoolsUnderTest {
  /** A pool with {@link POOL_OPTIONS} and `options`. */
  pool(options?: Partial<SessionOptions>): SessionPool;
  /** {@link startAddressServer}. */
  server(...args: Parameters<typeof startAddressServer>): Promise<AddressServer>;
  /** {@link startAddressServers}. */
  servers(kinds: ServerKind[]): Promise<AddressServer[]>;
}

/** Registers the afterEach that destroys the pools and closes the servers a test made. */
export function usePools(): PoolsUnderTest {
  const pools: SessionPool[] = [];
  const servers: AddressServer[] = [];
  afterEach(async () => {
    for (const pool of pools.splice(0)) pool.close(true);
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  return {
    pool: (options = {}) => {
      const pool = new SessionPool({ ...POOL_OPTIONS, ...options });
      pools.push(pool);
      return pool;
    },
    server: async (...args) => {
      const server = await startAddressServer(...args);
      servers.push(server);
      return server;
    },
    servers: async (kinds) => {
      const started = await startAddressServers(kinds);
      servers.push(...started);
      return started;
    },
  };
}

/**
 * A backend that wants the pool's reports: each goes to `reports` (the error's message,
 * `undefined` for a connection) and to `onReport`; available as `isAvailable` says.
 */
export function recordingBackend(
  reports: Array<string | undefined>,
  isAvailable: () => boolean = () => true,
  onReport: () => void = () => undefined,
): Backend {
  return {
    name: 'recording',
    client: () => {
      throw new Error('not used');
    },
    isAvailable,
    reportConnection: (error) => {
      reports.push(error?.message);
      onReport();
    },
  };
}
