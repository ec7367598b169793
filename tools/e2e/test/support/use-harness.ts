import type { ChannelCredentials, Client } from '@grpc/grpc-js';
import { createEchoClient, type BidiSession, type EchoServiceClient } from '@grpc-proxy/testing';
import {
  BackendProcess,
  EchoCliProcess,
  HeaderMirror,
  ProxyProcess,
  RawFrameConnection,
  RawH2Session,
  probeClient,
  type ProxyEngine,
  type ProxyOptions,
} from '../../src';

const ALL_ENGINES: readonly ProxyEngine[] = ['grpc-js', 'http2'];

/**
 * The engines every case runs on: both, or those listed in `E2E_ENGINES` (comma-separated, e.g.
 * `E2E_ENGINES=http2` while working on one engine).
 */
export const ENGINES: readonly ProxyEngine[] = (() => {
  const asked = process.env.E2E_ENGINES?.split(',').map((name) => name.trim());
  if (!asked?.length) return ALL_ENGINES;
  const unknown = asked.filter((name) => !ALL_ENGINES.includes(name as ProxyEngine));
  if (unknown.length > 0) throw new Error(`E2E_ENGINES: unknown engine ${unknown.join(', ')}`);
  return asked as ProxyEngine[];
})();

/** Starts what a case needs; everything started is stopped after the case, newest first. */
export interface Harness {
  /** Stops `resource` with `stop` after the case; returns `resource`. */
  own<T>(resource: T, stop: (resource: T) => unknown): T;
  /** The `grpc-proxy` command in its own process, on the harness's engine unless `options.engine`. */
  proxy(options: ProxyOptions): Promise<ProxyProcess>;
  /** A probe backend in its own process, on any free port unless `options.port`. */
  backend(options?: Parameters<typeof BackendProcess.start>[0]): Promise<BackendProcess>;
  /** `grpc-proxy-echo` in its own process, on `port` (default 0: any free port). */
  echoCli(port?: number): Promise<EchoCliProcess>;
  /** An in-process backend that answers with the request headers it saw. */
  mirror(): Promise<HeaderMirror>;
  /**
   * A raw-bytes client of the probe service with a connection of its own (local subchannel
   * pool), so that its credentials or a broken connection never affect another client. Over TLS
   * it checks for `localhost`, the name in the test kit's certificates (Node 26 refuses an IP
   * address as TLS server name, which grpc-js would send for a `127.0.0.1` target).
   */
  probeClient(address: string, channelCredentials?: ChannelCredentials): Client;
  /** A typed client of the echo service. */
  echoClient(address: string): EchoServiceClient;
  /** A raw `node:http2` session on a socket the test owns. */
  h2Session(address: string): RawH2Session;
  /** A byte-level HTTP/2 connection. */
  rawFrames(address: string): Promise<RawFrameConnection>;
}

/** Options of {@link useHarness}. */
export interface HarnessOptions {
  /** The engine of every proxy the harness starts. Default: the command's default. */
  engine?: ProxyEngine;
}

/**
 * Declares an `afterEach` that stops what the returned {@link Harness} started during the case
 * (in reverse order, each awaited, whatever the case's outcome). Call at the top of a spec file
 * or `describe` block (inside `describe.each(ENGINES)` for a block per engine).
 */
export function useHarness(options: HarnessOptions = {}): Harness {
  const stops: (() => unknown)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });
  const own = <T>(resource: T, stop: (resource: T) => unknown): T => {
    stops.push(() => stop(resource));
    return resource;
  };
  return {
    own,
    proxy: async (proxyOptions) =>
      own(await ProxyProcess.start({ engine: options.engine, ...proxyOptions }), (proxy) =>
        proxy.stop(),
      ),
    backend: async (options) =>
      own(await BackendProcess.start(options), (backend) => backend.stop()),
    echoCli: async (port) => own(await EchoCliProcess.start(port), (echo) => echo.process.stop()),
    mirror: async () => own(await HeaderMirror.start(), (mirror) => mirror.close()),
    probeClient: (address, channelCredentials) =>
      own(
        probeClient(address, channelCredentials, {
          'grpc.use_local_subchannel_pool': 1,
          'grpc.ssl_target_name_override': 'localhost',
        }),
        (client) => client.close(),
      ),
    echoClient: (address) => own(createEchoClient(address), (client) => client.close()),
    h2Session: (address) => own(new RawH2Session(address), (session) => session.close()),
    rawFrames: async (address) =>
      own(await RawFrameConnection.open(address), (connection) => connection.close()),
  };
}

/** Sends `text` on a raw-bytes bidi call and expects the same bytes back. */
export async function expectEcho(
  session: BidiSession<Buffer, Buffer>,
  text: string,
): Promise<void> {
  session.call.write(Buffer.from(text));
  expect((await session.nextResponse()).toString()).toBe(text);
}

/** Half-closes a bidi call and resolves with its status code. */
export async function finish(session: BidiSession<Buffer, Buffer>): Promise<number> {
  session.call.end();
  return (await session.outcome).status.code;
}
