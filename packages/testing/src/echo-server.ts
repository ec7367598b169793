import { Server, ServerCredentials, getChannelzHandlers } from '@grpc/grpc-js';
import type { ServerOptions } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { ServingStatus } from 'grpc-health-check';
import { EchoCallLog } from './call-log';
import type { EchoCallLogOptions, EchoCallRecord, WaitForCallOptions } from './call-log';
import { echoServiceImplementation } from './echo-service';
import { EchoServiceService } from './gen/grpc_proxy/testing/v1/echo';
import { listenForEcho } from './echo-listener';
import { addOpaqueEcho } from './opaque-echo';
import { watchServerWire } from './server-wire';
import type { OpenStream } from './server-wire';

/** The fully qualified name of the echo service, as health checks and reflection name it. */
export const ECHO_SERVICE_NAME = 'grpc_proxy.testing.v1.EchoService';

/** Options of {@link startEchoServer}. */
export interface EchoServerOptions {
  /**
   * Reported in every response (`server_name`) so tests can tell backends apart.
   * Default: `'echo'`.
   */
  name?: string;
  /** Interface to bind. Default: `'127.0.0.1'`. IPv6 addresses are bracketed for you. */
  host?: string;
  /** Port to bind. Default: `0` (a free port chosen by the OS). */
  port?: number;
  /** Listen on this unix socket path instead of `host`/`port`. Default: none. */
  unixSocketPath?: string;
  /** Server credentials. Default: `ServerCredentials.createInsecure()`. */
  credentials?: ServerCredentials;
  /**
   * grpc-js server options. Default: message size limits lifted (`-1` for both
   * `grpc.max_receive_message_length` and `grpc.max_send_message_length`), so tests may send
   * large messages; anything given here is merged over that.
   */
  serverOptions?: ServerOptions;
  /**
   * Initial health of each service (`''` is the server as a whole).
   * Default: `''` and the echo service `SERVING`.
   */
  health?: Record<string, ServingStatus>;
  /** How much of each call to remember. Default: the last 10000 calls, payloads included. */
  callLog?: EchoCallLogOptions;
}

/** Counters of calls the server has seen, including calls to methods it does not implement. */
export interface EchoServerCallCounts {
  /** Calls started (every HTTP/2 stream that reached the server as a gRPC call). */
  started: number;
  /** Calls that ended with OK. */
  succeeded: number;
  /** Calls that ended otherwise (including UNIMPLEMENTED answers and cancellations). */
  failed: number;
}

/** A running echo server. */
export interface EchoServerHandle {
  /** The address clients connect to: `host:port`, `[v6]:port`, or `unix:/path`. */
  readonly address: string;
  /** The bound port (0 for a unix socket). */
  readonly port: number;
  /** The server name reported in responses. */
  readonly name: string;
  /** Every call seen so far, oldest first, updated live. */
  readonly calls: readonly EchoCallRecord[];
  /** Waits for a recorded call matching `predicate` (see {@link EchoCallLog.waitFor}). */
  waitForCall(
    predicate: (call: EchoCallRecord) => boolean,
    options?: WaitForCallOptions,
  ): Promise<EchoCallRecord>;
  /**
   * Waits for a call that the client cancelled; `match` narrows it down: a method (full path
   * like `/grpc_proxy.testing.v1.EchoService/Bidi`, or just `Bidi`) or a predicate.
   */
  waitForCancelled(
    match?: string | ((call: EchoCallRecord) => boolean),
    options?: WaitForCallOptions,
  ): Promise<EchoCallRecord>;
  /** Forgets the calls recorded so far. */
  clearCalls(): void;
  /** Call counters from grpc-js channelz; these include calls the echo service never saw. */
  callCounts(): Promise<EchoServerCallCounts>;
  /** Sets the grpc.health.v1 status of `service` (`''` for the server as a whole). */
  setHealth(service: string, status: ServingStatus): void;
  /**
   * Restarts the server gracefully on the same address, as a new process taking over the
   * listening socket would: a new server gets the listening socket, then the old one sends
   * GOAWAY on its connections and finishes its running calls. Resolves once those have ended. The name, call log and health statuses carry over; {@link callCounts}
   * starts again from zero.
   */
  restart(): Promise<void>;
  /**
   * The HTTP/2 streams open on the server now (TCP only; none on a unix socket): a stream a
   * client (or a proxy) never closed keeps a graceful `close()` or `restart()` waiting.
   */
  openStreams(): OpenStream[];
  /**
   * Stops accepting calls and resolves once the running ones have ended (grpc-js
   * `tryShutdown`).
   */
  close(): Promise<void>;
  /** Ends every call and connection at once (grpc-js `forceShutdown`). */
  forceClose(): void;
}

const DEFAULT_SERVER_OPTIONS: ServerOptions = {
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': -1,
};

/**
 * Starts an echo server (the echo service, the opaque echo method `OPAQUE_ECHO_METHOD` and
 * grpc.health.v1) and resolves once it listens. On TCP it gzips the responses of calls that ask
 * for it (`RESPONSE_ENCODING_KEY`) and keeps its open HTTP/2 streams.
 *
 * @example
 * const server = await startEchoServer({ name: 'backend-a' });
 * const client = createEchoClient(server.address);
 * // ...
 * client.close();
 * await server.close();
 */
export async function startEchoServer(options: EchoServerOptions = {}): Promise<EchoServerHandle> {
  const name = options.name ?? 'echo';
  const log = new EchoCallLog(options.callLog);
  const health = new HealthImplementation(
    options.health ?? { '': 'SERVING', [ECHO_SERVICE_NAME]: 'SERVING' },
  );
  const newServer = (): Server => {
    const server = new Server({ ...DEFAULT_SERVER_OPTIONS, ...options.serverOptions });
    server.addService(EchoServiceService, echoServiceImplementation(name, log));
    addOpaqueEcho(server, name, log);
    health.addToServer(server);
    return server;
  };
  const credentials = options.credentials ?? ServerCredentials.createInsecure();
  const host = options.host ?? '127.0.0.1';
  const where =
    options.unixSocketPath !== undefined
      ? { path: options.unixSocketPath }
      : { host: host.replace(/^\[(.*)\]$/, '$1'), port: options.port ?? 0 };
  const listener = await listenForEcho(where, bindTarget(options));
  let server = newServer();
  listener.serve(server, credentials);
  const port = listener.port;
  const address =
    options.unixSocketPath !== undefined
      ? bindTarget(options)
      : `${hostForAddress(options.host)}:${port}`;
  const wire = options.unixSocketPath === undefined ? watchServerWire(port) : undefined;

  return {
    address,
    port: options.unixSocketPath !== undefined ? 0 : port,
    name,
    get calls() {
      return log.calls;
    },
    waitForCall: (predicate, waitOptions) => log.waitFor(predicate, waitOptions),
    waitForCancelled: (match, waitOptions) => {
      const matches = methodMatcher(match);
      return log.waitFor((call) => call.cancelled && matches(call), {
        description: `a cancelled call${typeof match === 'string' ? ` to ${match}` : ''}`,
        ...waitOptions,
      });
    },
    clearCalls: () => log.clear(),
    callCounts: () => channelzCallCounts(server),
    setHealth: (service, status) => health.setStatus(service, status),
    restart: async () => {
      const old = server;
      // The listening socket goes to the new server before the old one says GOAWAY: a client
      // that reconnects at once finds the new one, never a refused connection.
      server = newServer();
      listener.serve(server, credentials);
      await shutDown(old);
    },
    openStreams: () => wire?.openStreams() ?? [],
    close: async () => {
      wire?.stop();
      listener.close();
      await shutDown(server);
    },
    forceClose: () => {
      wire?.stop();
      listener.close();
      server.forceShutdown();
    },
  };
}

/** grpc-js `tryShutdown`: GOAWAY on every connection, then resolves once running calls end. */
function shutDown(server: Server): Promise<void> {
  return new Promise<void>((resolve, reject) =>
    server.tryShutdown((error) => (error ? reject(error) : resolve())),
  );
}

function methodMatcher(
  match: string | ((call: EchoCallRecord) => boolean) | undefined,
): (call: EchoCallRecord) => boolean {
  if (match === undefined) return () => true;
  if (typeof match === 'function') return match;
  return (call) => call.method === match || call.method.endsWith(`/${match}`);
}

function bindTarget(options: EchoServerOptions): string {
  if (options.unixSocketPath !== undefined) return `unix:${options.unixSocketPath}`;
  return `${hostForAddress(options.host)}:${options.port ?? 0}`;
}

function hostForAddress(host = '127.0.0.1'): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function channelzCallCounts(server: Server): Promise<EchoServerCallCounts> {
  const serverId = String(server.getChannelzRef().id);
  return new Promise((resolve, reject) => {
    getChannelzHandlers().GetServer(
      { request: { server_id: serverId } } as never,
      ((error: Error | null, response?: { server?: { data?: Record<string, unknown> } }) => {
        const data = response?.server?.data;
        if (error || data === undefined) {
          reject(
            new Error(
              `channelz has no data for this echo server (is grpc.enable_channelz off?): ${error?.message ?? 'no data'}`,
            ),
          );
          return;
        }
        resolve({
          started: Number(data.calls_started),
          succeeded: Number(data.calls_succeeded),
          failed: Number(data.calls_failed),
        });
      }) as never,
    );
  });
}
