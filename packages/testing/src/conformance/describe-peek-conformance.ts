import { startEchoServer } from '../echo-server';
import type { EchoServerHandle } from '../echo-server';
import { testGlobals } from '../jest-globals';
import type { StartedProxy } from './describe-proxy-conformance';
import { closeIfCloseable, declareNamedCases, selectNamedCases } from './named-cases';
import { PEEK_RECEIVE_LIMIT } from './peek-case';
import type { PeekCase, PeekEnvironment } from './peek-case';
import { PeekLog, peekDirector } from './peek-director';
import type { PeekingDirector } from './peek-director';
import {
  peekCancelSettles,
  peekCompressedFirstMessage,
  peekConnectionLostSettles,
  peekDeadlineSettles,
  peekDirectorRejects,
  peekNullOnHalfClose,
  peekOverLimit,
} from './peek-ending-cases';
import {
  peekRoutesBidi,
  peekRoutesClientStream,
  peekRoutesServerStream,
  peekRoutesUnary,
} from './peek-routing-cases';
import type { ConformanceOptions } from './types';

/** Every peek case, in the order they run. */
export const peekCases: readonly PeekCase[] = [
  peekRoutesUnary,
  peekRoutesServerStream,
  peekRoutesClientStream,
  peekRoutesBidi,
  peekNullOnHalfClose,
  peekOverLimit,
  peekCancelSettles,
  peekConnectionLostSettles,
  peekDeadlineSettles,
  peekDirectorRejects,
  peekCompressedFirstMessage,
];

/** What the proxy under test must be started with, besides the director. */
export interface PeekProxySettings {
  /**
   * The receive limit to give the proxy (`maxReceiveMessageLength` on both `@grpc-proxy`
   * engines): {@link PEEK_RECEIVE_LIMIT}, 64 KiB. A proxy that cannot take it skips
   * `peek_over_limit`.
   */
  readonly maxReceiveMessageLength: number;
}

/** The default {@link PeekConformanceOptions.backend}: a backend given by its address. */
export interface TargetBackend {
  readonly target: string;
}

/** Options of {@link describePeekConformance}. */
export interface PeekConformanceOptions<Backend = TargetBackend> extends ConformanceOptions {
  /**
   * Starts the proxy under test, routing every call with `director` (an async
   * `StreamDirector`), with the receive limit of `settings`.
   */
  startProxy(
    director: PeekingDirector<Backend>,
    settings: PeekProxySettings,
  ): StartedProxy | Promise<StartedProxy>;
  /**
   * The route backend for the echo backend at `address`, as the proxy's routes take it; made
   * once per backend before the proxy starts, and its `close()`, when it has one, called after
   * the proxy closed. Default: `{ target: address }` (what the `node:http2` engine takes; give
   * `createBackend` of `@grpc-proxy/director` for the grpc-js engine).
   */
  backend?(address: string): Backend;
  /** Runs only these cases (by name). Default: every case. */
  only?: readonly string[];
  /** Skips these cases (by name), e.g. `peek_over_limit` for a proxy without a limit. Default: none. */
  skip?: readonly string[];
  /** Time allowed to start or stop the proxy and backends. Default: 30000 ms. */
  setupTimeoutMs?: number;
}

/** The peek cases `options` selects, failing on unknown names so typos do not skip silently. */
export function selectPeekCases(
  options: Pick<PeekConformanceOptions<unknown>, 'only' | 'skip'>,
): PeekCase[] {
  return selectNamedCases('peek', peekCases, options);
}

/**
 * Declares a jest `describe` block named `name` with one test per peek case (see
 * {@link peekCases}): two echo backends on port 0, and the proxy `options.startProxy` starts with
 * a director that awaits `firstMessage()` and routes on the first request's payload (started
 * before the first case, closed after the last). Cases left out by `skip` are declared skipped.
 *
 * @example
 * describePeekConformance('my proxy', {
 *   startProxy: async (director, { maxReceiveMessageLength }) => {
 *     const proxy = createHttp2Proxy({ director, maxReceiveMessageLength });
 *     return { address: await proxy.listen('127.0.0.1:0'), close: () => proxy.close(0) };
 *   },
 * });
 */
export function describePeekConformance<Backend = TargetBackend>(
  name: string,
  options: PeekConformanceOptions<Backend>,
): void {
  const { describe, it, beforeAll, afterAll } = testGlobals(
    'describePeekConformance',
    ['describe', 'it', 'beforeAll', 'afterAll'],
    'call it at the top level of a test file; elsewhere run peekCases yourself',
  );
  const cases = selectPeekCases(options);
  const setupTimeoutMs = options.setupTimeoutMs ?? 30_000;
  const toBackend =
    options.backend ?? ((address: string) => ({ target: address }) as unknown as Backend);
  describe(name, () => {
    const started: EchoServerHandle[] = [];
    const routeBackends: Backend[] = [];
    let environment: PeekEnvironment | undefined;
    let proxy: StartedProxy | undefined;
    beforeAll(async () => {
      const a = await startEchoServer({ name: 'peek-backend-a' });
      started.push(a);
      const b = await startEchoServer({ name: 'peek-backend-b' });
      started.push(b);
      routeBackends.push(toBackend(a.address), toBackend(b.address));
      const log = new PeekLog();
      const director = peekDirector(log, { a: routeBackends[0], b: routeBackends[1] });
      proxy = await options.startProxy(director, { maxReceiveMessageLength: PEEK_RECEIVE_LIMIT });
      environment = { proxyAddress: proxy.address, backends: { a, b }, log };
    }, setupTimeoutMs);
    afterAll(async () => {
      await proxy?.close();
      routeBackends.forEach(closeIfCloseable);
      started.forEach((backend) => backend.forceClose());
    }, setupTimeoutMs);
    declareNamedCases(it, peekCases, cases, () => environment, options);
  });
}
