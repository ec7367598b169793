/**
 * Jest harnesses: a backend and a backend client of it (`useBackend`), plus a proxy in front of it
 * (createProxyServer), a raw client of the proxy, and records of what the observer and `release`
 * heard (`useHarness`). Everything is made fresh before each test and closed after it.
 */
import type { ChannelOptions, Client, Server, StatusObject } from '@grpc/grpc-js';
import { createBackendClient } from '../backend-client';
import type { CallReport, Route, StreamDirector } from '../contracts';
import type { ProxyHandlerOptions } from '../options';
import { createProxyServer } from '../server';
import { bindLocal, rawClient, type RunningServer } from './grpc-fixtures';
import { startTestBackend, type TestBackend } from './test-backend';

/** What a backend harness needs of a backend: where it listens, and how to stop it. */
export interface Listening {
  readonly target: string;
  close(): Promise<void>;
}

/** A proxy server bound on 127.0.0.1:0 and a raw client of it. */
export interface Served {
  readonly proxy: RunningServer;
  readonly client: Client;
}

export interface BackendHarness<B extends Listening> {
  backend: B;
  /** `createBackendClient(backend.target)`. */
  backendClient: Client;
  /** Binds `server` and connects a raw client to it; both are closed after the test. */
  serve(server: Server, clientOptions?: ChannelOptions): Promise<Served>;
}

/** A backend (default: the test backend) and a backend client of it, for each test. */
export function useBackend(): BackendHarness<TestBackend>;
export function useBackend<B extends Listening>(start: () => Promise<B>): BackendHarness<B>;
export function useBackend(
  start: () => Promise<Listening> = () => startTestBackend(),
): BackendHarness<Listening> {
  let served: Served[] = [];
  const harness = {
    serve: async (server: Server, clientOptions: ChannelOptions = {}) => {
      const proxy = await bindLocal(server);
      const result = { proxy, client: rawClient(proxy.target, clientOptions) };
      served.push(result);
      return result;
    },
  } as BackendHarness<Listening>;

  beforeEach(async () => {
    harness.backend = await start();
    harness.backendClient = createBackendClient(harness.backend.target);
  });

  afterEach(async () => {
    for (const { client } of served) client.close();
    harness.backendClient.close();
    for (const { proxy } of served) await proxy.close();
    served = [];
    await harness.backend.close();
  });

  return harness;
}

export interface Harness<B extends Listening = TestBackend> extends BackendHarness<B> {
  proxy: RunningServer;
  client: Client;
  /** The director in use; tests may replace it. Default: every call to the backend. */
  director: StreamDirector;
  readonly reports: CallReport[];
  readonly releases: StatusObject[];
  /** A route to the backend whose `release` is recorded. */
  route(extra?: Partial<Route>): Route;
}

/** Options of {@link useHarness}: the proxy's, plus how to start the backend. */
export interface HarnessOptions<B extends Listening> extends ProxyHandlerOptions {
  /** Starts the backend. Default: the test backend. */
  startBackend?: () => Promise<B>;
}

/**
 * A backend, a proxy in front of it and a raw client of the proxy, for each test. The proxy's
 * observer records into `reports` unless `options.observer` replaces it.
 */
export function useHarness(options?: HarnessOptions<TestBackend>): Harness;
export function useHarness<B extends Listening>(
  options: HarnessOptions<B> & { startBackend: () => Promise<B> },
): Harness<B>;
export function useHarness(options: HarnessOptions<Listening> = {}): Harness<Listening> {
  const { startBackend, ...proxyOptions } = options;
  const base = startBackend ? useBackend(startBackend) : useBackend();
  const harness = Object.assign(base, {
    reports: [] as CallReport[],
    releases: [] as StatusObject[],
    route: (extra: Partial<Route> = {}): Route => ({
      backend: harness.backendClient,
      release: (status) => harness.releases.push(status),
      ...extra,
    }),
  }) as Harness<Listening>;

  beforeEach(async () => {
    harness.reports.length = 0;
    harness.releases.length = 0;
    harness.director = () => harness.route();
    const server = createProxyServer({
      director: (call) => harness.director(call),
      observer: { onCallEnd: (report) => harness.reports.push(report) },
      ...proxyOptions,
    });
    Object.assign(harness, await base.serve(server));
  });

  return harness;
}
