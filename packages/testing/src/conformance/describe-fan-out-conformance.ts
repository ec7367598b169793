import type { Metadata } from '@grpc/grpc-js';
import { startEchoServer } from '../echo-server';
import type { EchoServerHandle } from '../echo-server';
import { testGlobals } from '../jest-globals';
import type { TargetBackend } from './describe-peek-conformance';
import type { StartedProxy } from './describe-proxy-conformance';
import type { FanOutCase, FanOutEchoes, FanOutEnvironment } from './fan-out-case';
import { FAN_OUT_PLAN_KEY, FanOutReportLog, fanOutDirector } from './fan-out-director';
import type { FanOutCallReportShape, FanOutPlan, FanningDirector } from './fan-out-director';
import {
  fanOutAllFailed,
  fanOutErrorToMessage,
  fanOutFirstError,
  fanOutSkip,
  fanOutUnreachableBackend,
} from './fan-out-error-cases';
import { startFailingServer } from './fan-out-failing-server';
import type { FailingServer } from './fan-out-failing-server';
import { fanOutCustomMerge, fanOutUnaryMerge } from './fan-out-merge-cases';
import {
  fanOutBidi,
  fanOutClientCancel,
  fanOutHeadersAndTrailers,
  fanOutServerStream,
} from './fan-out-stream-cases';
import { closeIfCloseable, declareNamedCases, selectNamedCases } from './named-cases';
import { refusedAddress } from './silent-http2-server';
import { CALL_ID_KEY } from './types';
import type { ConformanceOptions } from './types';

/** Every fan-out case, in the order they run. */
export const fanOutCases: readonly FanOutCase[] = [
  fanOutServerStream,
  fanOutBidi,
  fanOutUnaryMerge,
  fanOutCustomMerge,
  fanOutHeadersAndTrailers,
  fanOutFirstError,
  fanOutSkip,
  fanOutErrorToMessage,
  fanOutAllFailed,
  fanOutUnreachableBackend,
  fanOutClientCancel,
];

/**
 * The status message of a fan-out backend call the `@grpc-proxy` engines cancel because the
 * call ended first (proxy name `grpc-proxy`).
 */
export const FAN_OUT_CANCELLED_DETAILS = 'grpc-proxy: fan-out call ended before this backend';

/**
 * What the proxy under test is started with, besides the director; shaped as the `@grpc-proxy`
 * engines' options, so `{ director, ...settings }` fits both.
 */
export interface FanOutProxySettings {
  /** Gets one report per call; the cases check `fanOut`, `backend` and the message counts. */
  readonly observer: { onCallEnd(report: FanOutCallReportShape): void };
}

/** Options of {@link describeFanOutConformance}. */
export interface FanOutConformanceOptions<Backend = TargetBackend> extends ConformanceOptions {
  /** Starts the proxy under test, routing every call with `director`, with `settings`. */
  startProxy(
    director: FanningDirector<Backend>,
    settings: FanOutProxySettings,
  ): StartedProxy | Promise<StartedProxy>;
  /**
   * The fan-out member for address `address` (each echo server, the failing server and a
   * refused address), made once before the proxy starts; its `close()`, when it has one, is
   * called after the proxy closed. Default: `{ target: address }` (the `node:http2` engine; give
   * `createBackendClient` or `createBackend` for the grpc-js engine).
   */
  backend?(address: string): Backend;
  /**
   * Whether the proxy passes `settings.observer` on, so the cases check the call reports
   * (`CallReport.fanOut`). Default: true.
   */
  reports?: boolean;
  /**
   * The status message of a backend call the proxy cancelled because the call ended.
   * Default: {@link FAN_OUT_CANCELLED_DETAILS}.
   */
  cancelledDetails?: string;
  /** Runs only these cases (by name). Default: every case. */
  only?: readonly string[];
  /** Skips these cases (by name). Default: none. */
  skip?: readonly string[];
  /** Time allowed to start or stop the proxy and servers. Default: 30000 ms. */
  setupTimeoutMs?: number;
}

/** The fan-out cases `options` selects, failing on unknown names so typos do not skip silently. */
export function selectFanOutCases(
  options: Pick<FanOutConformanceOptions<unknown>, 'only' | 'skip'>,
): FanOutCase[] {
  return selectNamedCases('fan-out', fanOutCases, options);
}

/**
 * Resolves once every echo server the call's plan names has the call (bounded by `timeoutMs`):
 * the failing server waits for it, so the others see a cancellation rather than nothing.
 */
function othersHaveCall(echoes: () => FanOutEchoes | undefined, timeoutMs: number) {
  return async (metadata: Metadata): Promise<void> => {
    const plan = JSON.parse(String(metadata.get(FAN_OUT_PLAN_KEY)[0] ?? '{}')) as FanOutPlan;
    const id = metadata.get(CALL_ID_KEY)[0];
    const servers = echoes();
    if (servers === undefined || !Array.isArray(plan.backends)) return;
    const named = plan.backends.filter((name): name is keyof FanOutEchoes => name in servers);
    await Promise.all(
      named.map((name) =>
        servers[name].waitForCall((record) => record.metadata.get(CALL_ID_KEY)[0] === id, {
          timeoutMs,
        }),
      ),
    );
  };
}

/**
 * Declares a jest `describe` block named `name` with one test per fan-out case (see
 * {@link fanOutCases}): three echo servers (`a`, `b`, `c`), a server failing every call
 * `NOT_FOUND` with a trailer, and a refused address, all on 127.0.0.1 port 0, and the proxy
 * `options.startProxy` starts with the fan-out director (started before the first case, closed
 * after the last). Each call's metadata tells the director which backends, which `responses`
 * mode and which `onError`/`merge` to use. Cases left out by `skip` are declared skipped.
 *
 * @example
 * describeFanOutConformance('my proxy', {
 *   startProxy: async (director, settings) => {
 *     const proxy = createHttp2Proxy({ director, ...settings });
 *     return { address: await proxy.listen('127.0.0.1:0'), close: () => proxy.close(0) };
 *   },
 * });
 */
export function describeFanOutConformance<Backend = TargetBackend>(
  name: string,
  options: FanOutConformanceOptions<Backend>,
): void {
  const { describe, it, beforeAll, afterAll } = testGlobals(
    'describeFanOutConformance',
    ['describe', 'it', 'beforeAll', 'afterAll'],
    'call it at the top level of a test file; elsewhere run fanOutCases yourself',
  );
  const cases = selectFanOutCases(options);
  const setupTimeoutMs = options.setupTimeoutMs ?? 30_000;
  const toBackend =
    options.backend ?? ((address: string) => ({ target: address }) as unknown as Backend);
  describe(name, () => {
    const servers: EchoServerHandle[] = [];
    const routeBackends: Backend[] = [];
    let failing: FailingServer | undefined;
    let environment: FanOutEnvironment | undefined;
    let proxy: StartedProxy | undefined;
    beforeAll(async () => {
      for (const server of ['a', 'b', 'c']) {
        servers.push(await startEchoServer({ name: `fan-out-${server}` }));
      }
      const [a, b, c] = servers;
      const echoes: FanOutEchoes = { a, b, c };
      failing = await startFailingServer(
        othersHaveCall(() => echoes, options.stepTimeoutMs ?? 10_000),
      );
      const addresses = [a.address, b.address, c.address, failing.address, await refusedAddress()];
      routeBackends.push(...addresses.map(toBackend));
      const [aRoute, bRoute, cRoute, failRoute, refusedRoute] = routeBackends;
      const log = new FanOutReportLog();
      const director = fanOutDirector({
        a: aRoute,
        b: bRoute,
        c: cRoute,
        fail: failRoute,
        refused: refusedRoute,
      });
      proxy = await options.startProxy(director, { observer: { onCallEnd: log.onCallEnd } });
      environment = {
        proxyAddress: proxy.address,
        echoes,
        failing,
        log,
        expectations: {
          reports: options.reports ?? true,
          cancelledDetails: options.cancelledDetails ?? FAN_OUT_CANCELLED_DETAILS,
        },
      };
    }, setupTimeoutMs);
    afterAll(async () => {
      await proxy?.close();
      routeBackends.forEach(closeIfCloseable);
      servers.forEach((server) => server.forceClose());
      await failing?.close();
    }, setupTimeoutMs);
    declareNamedCases(it, fanOutCases, cases, () => environment, options);
  });
}
