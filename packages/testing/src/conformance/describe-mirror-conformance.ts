import { startEchoServer } from '../echo-server';
import type { EchoServerHandle } from '../echo-server';
import { testGlobals } from '../jest-globals';
import type { TargetBackend } from './describe-peek-conformance';
import type { StartedProxy } from './describe-proxy-conformance';
import type { MirrorCase, MirrorEnvironment } from './mirror-case';
import {
  mirrorCopiesBidi,
  mirrorCopiesClientStream,
  mirrorCopiesServerStream,
  mirrorCopiesUnary,
} from './mirror-copy-cases';
import { MirrorLog, mirrorDirector } from './mirror-director';
import type { MirrorReportShape, MirroringDirector } from './mirror-director';
import {
  STRICT_MIRROR_RECEIVE_LIMIT,
  mirrorErrorHidden,
  mirrorOutlivesCallDropped,
  mirrorPercentZero,
  mirrorRefusedFailed,
  mirrorSlowReaderDropped,
} from './mirror-fault-cases';
import { refusedAddress, startSilentHttp2Server } from './silent-http2-server';
import type { SilentHttp2Server } from './silent-http2-server';
import { closeIfCloseable, declareNamedCases, selectNamedCases } from './named-cases';
import type { ConformanceOptions } from './types';

/** Every mirror case, in the order they run. */
export const mirrorCases: readonly MirrorCase[] = [
  mirrorCopiesUnary,
  mirrorCopiesServerStream,
  mirrorCopiesClientStream,
  mirrorCopiesBidi,
  mirrorErrorHidden,
  mirrorRefusedFailed,
  mirrorSlowReaderDropped,
  mirrorOutlivesCallDropped,
  mirrorPercentZero,
];

/** The `mirrorTimeoutMs` the mirror cases give the proxy: 1000 ms. */
export const MIRROR_CASE_TIMEOUT_MS = 1_000;

/** The mirror byte budget of both `@grpc-proxy` engines (`MIRROR_BUFFER_BYTES`): 1 MiB. */
export const DEFAULT_MIRROR_BUDGET_BYTES = 1024 * 1024;

/**
 * What the proxy under test must be started with, besides the director; shaped as the
 * `@grpc-proxy` engines' options, so `{ director, ...settings }` fits both.
 */
export interface MirrorProxySettings {
  /** Milliseconds a copy may outlive its call: {@link MIRROR_CASE_TIMEOUT_MS}. */
  readonly mirrorTimeoutMs: number;
  /** The mirror header to add; only when {@link MirrorConformanceOptions.mirrorHeader} is given. */
  readonly mirrorHeader?: string;
  /** Gets one report per copy; the cases check them. */
  readonly observer: { onMirrorEnd(report: MirrorReportShape): void };
}

/** Options of {@link describeMirrorConformance}. */
export interface MirrorConformanceOptions<Backend = TargetBackend> extends ConformanceOptions {
  /** Starts the proxy under test, routing every call with `director`, with `settings`. */
  startProxy(
    director: MirroringDirector<Backend>,
    settings: MirrorProxySettings,
  ): StartedProxy | Promise<StartedProxy>;
  /**
   * The route backend for address `address` (the primary and each mirror), made once before the
   * proxy starts; its `close()`, when it has one, is called after the proxy closed. Default:
   * `{ target: address }` (the `node:http2` engine; give `createBackendClient` or `createBackend`
   * for the grpc-js engine).
   */
  backend?(address: string): Backend;
  /** The mirror header name to give the proxy and expect. Default: `x-grpc-proxy-mirror`. */
  mirrorHeader?: string;
  /** Bytes a copy may leave untaken before the proxy drops it. Default: 1 MiB. */
  mirrorBufferBytes?: number;
  /** Runs only these cases (by name). Default: every case. */
  only?: readonly string[];
  /** Skips these cases (by name). Default: none. */
  skip?: readonly string[];
  /** Time allowed to start or stop the proxy and servers. Default: 30000 ms. */
  setupTimeoutMs?: number;
}

/** The mirror cases `options` selects, failing on unknown names so typos do not skip silently. */
export function selectMirrorCases(
  options: Pick<MirrorConformanceOptions<unknown>, 'only' | 'skip'>,
): MirrorCase[] {
  return selectNamedCases('mirror', mirrorCases, options);
}

/**
 * Declares a jest `describe` block named `name` with one test per mirror case (see
 * {@link mirrorCases}): an echo primary, an echo mirror, a `strict` echo mirror (16-byte receive
 * limit), a silent HTTP/2 mirror and a refused address, all on 127.0.0.1 port 0, and the proxy
 * `options.startProxy` starts with the mirror director (started before the first case, closed
 * after the last). Cases left out by `skip` are declared skipped.
 *
 * @example
 * describeMirrorConformance('my proxy', {
 *   startProxy: async (director, settings) => {
 *     const proxy = createHttp2Proxy({ director, ...settings });
 *     return { address: await proxy.listen('127.0.0.1:0'), close: () => proxy.close(0) };
 *   },
 * });
 */
export function describeMirrorConformance<Backend = TargetBackend>(
  name: string,
  options: MirrorConformanceOptions<Backend>,
): void {
  const { describe, it, beforeAll, afterAll } = testGlobals(
    'describeMirrorConformance',
    ['describe', 'it', 'beforeAll', 'afterAll'],
    'call it at the top level of a test file; elsewhere run mirrorCases yourself',
  );
  const cases = selectMirrorCases(options);
  const setupTimeoutMs = options.setupTimeoutMs ?? 30_000;
  const toBackend =
    options.backend ?? ((address: string) => ({ target: address }) as unknown as Backend);
  describe(name, () => {
    const echoes: EchoServerHandle[] = [];
    const routeBackends: Backend[] = [];
    let silent: SilentHttp2Server | undefined;
    let environment: MirrorEnvironment | undefined;
    let proxy: StartedProxy | undefined;
    beforeAll(async () => {
      const start = async (server: string, limit?: number): Promise<EchoServerHandle> => {
        const serverOptions =
          limit === undefined ? {} : { 'grpc.max_receive_message_length': limit };
        const handle = await startEchoServer({ name: server, serverOptions });
        echoes.push(handle);
        return handle;
      };
      const primary = await start('mirror-primary');
      const echo = await start('mirror-echo');
      const strict = await start('mirror-strict', STRICT_MIRROR_RECEIVE_LIMIT);
      silent = await startSilentHttp2Server();
      const addresses = [primary, echo, strict, silent].map((s) => s.address);
      routeBackends.push(...[...addresses, await refusedAddress()].map(toBackend));
      const [primaryRoute, echoRoute, strictRoute, silentRoute, refusedRoute] = routeBackends;
      const log = new MirrorLog();
      const director = mirrorDirector(primaryRoute, {
        echo: echoRoute,
        strict: strictRoute,
        silent: silentRoute,
        refused: refusedRoute,
      });
      const settings: MirrorProxySettings = {
        mirrorTimeoutMs: MIRROR_CASE_TIMEOUT_MS,
        observer: { onMirrorEnd: log.onMirrorEnd },
        ...(options.mirrorHeader === undefined ? {} : { mirrorHeader: options.mirrorHeader }),
      };
      proxy = await options.startProxy(director, settings);
      environment = {
        proxyAddress: proxy.address,
        primary,
        mirrors: { echo, strict, silent },
        log,
        expectations: {
          mirrorTimeoutMs: MIRROR_CASE_TIMEOUT_MS,
          mirrorHeader: (options.mirrorHeader ?? 'x-grpc-proxy-mirror').toLowerCase(),
          mirrorBufferBytes: options.mirrorBufferBytes ?? DEFAULT_MIRROR_BUDGET_BYTES,
        },
      };
    }, setupTimeoutMs);
    afterAll(async () => {
      await proxy?.close();
      routeBackends.forEach(closeIfCloseable);
      echoes.forEach((server) => server.forceClose());
      await silent?.close();
    }, setupTimeoutMs);
    declareNamedCases(it, mirrorCases, cases, () => environment, options);
  });
}
