import { startEchoServer } from '../echo-server';
import { testGlobals } from '../jest-globals';
import type { EchoServerHandle, EchoServerOptions } from '../echo-server';
import { conformanceCases } from './cases';
import type { ConformanceCase, ConformanceOptions } from './types';

/** A proxy started for the suite. */
export interface StartedProxy {
  /** Where clients reach the proxy: `host:port` or `unix:/path`. */
  address: string;
  /** Stops the proxy; awaited after the last case. */
  close(): void | Promise<void>;
}

/** Options of {@link describeProxyConformance}. */
export interface ProxyConformanceOptions extends ConformanceOptions {
  /**
   * Starts the proxy under test, forwarding every call to `backendAddress`. The proxy must lift
   * its message size limits to at least 8 MiB + a little for `large_unary`.
   */
  startProxy(backendAddress: string): StartedProxy | Promise<StartedProxy>;
  /**
   * Runs only these cases (by name), slow ones included when named. Default: every case (the
   * slow ones only with `includeSlow`).
   */
  only?: readonly string[];
  /** Skips these cases (by name), e.g. while a known gap is being fixed. Default: none. */
  skip?: readonly string[];
  /**
   * Runs the slow cases too (`slow: true`, e.g. an idle stream of `idleStreamMs`); otherwise they
   * are declared skipped. Default: false.
   */
  includeSlow?: boolean;
  /** Options of the backend echo server. Default: name `'conformance-backend'`, limits lifted. */
  backend?: EchoServerOptions;
  /** Time allowed to start or stop the proxy and backend. Default: 30000 ms. */
  setupTimeoutMs?: number;
}

/**
 * The cases `options` selects, failing on unknown names so typos do not skip silently: those
 * named in `only` (default: all), minus `skip`, minus the slow ones unless `includeSlow` or
 * named in `only`.
 */
export function selectCases(
  options: Pick<ProxyConformanceOptions, 'only' | 'skip' | 'includeSlow'>,
): ConformanceCase[] {
  const known = new Set(conformanceCases.map((c) => c.name));
  for (const name of [...(options.only ?? []), ...(options.skip ?? [])]) {
    if (!known.has(name)) {
      throw new Error(`unknown conformance case "${name}"; known: ${[...known].join(', ')}`);
    }
  }
  return conformanceCases.filter(
    (c) =>
      (options.only === undefined
        ? !c.slow || options.includeSlow === true
        : options.only.includes(c.name)) && !(options.skip ?? []).includes(c.name),
  );
}

/**
 * Declares a jest `describe` block named `name` with one test per conformance case, run against
 * the proxy `options.startProxy` starts in front of a fresh echo server (started before the
 * first case, closed after the last). Slow cases left out are declared skipped (`it.skip`), so
 * the report shows them.
 *
 * @example
 * describeProxyConformance('my proxy', {
 *   startProxy: async (backendAddress) => {
 *     const proxy = await startMyProxy({ target: backendAddress, port: 0 });
 *     return { address: proxy.address, close: () => proxy.stop() };
 *   },
 * });
 */
export function describeProxyConformance(name: string, options: ProxyConformanceOptions): void {
  const { describe, it, beforeAll, afterAll } = testGlobals(
    'describeProxyConformance',
    ['describe', 'it', 'beforeAll', 'afterAll'],
    'call it at the top level of a test file; elsewhere run conformanceCases yourself',
  );
  const cases = selectCases(options);
  // A runner without `it.skip` (the globals only promise `it`) just leaves the slow cases out.
  const skipIt = (caseName: string): void =>
    (it as { skip?: (name: string, body: () => void) => void }).skip?.(caseName, () => undefined);
  const setupTimeoutMs = options.setupTimeoutMs ?? 30_000;
  describe(name, () => {
    let backend: EchoServerHandle | undefined;
    let proxy: StartedProxy | undefined;
    beforeAll(async () => {
      backend = await startEchoServer({ name: 'conformance-backend', ...options.backend });
      proxy = await options.startProxy(backend.address);
    }, setupTimeoutMs);
    afterAll(async () => {
      await proxy?.close();
      backend?.forceClose();
    }, setupTimeoutMs);
    for (const conformanceCase of conformanceCases) {
      if (!cases.includes(conformanceCase)) {
        if (conformanceCase.slow && options.only === undefined) skipIt(conformanceCase.name);
        continue;
      }
      it(
        conformanceCase.name,
        async () => {
          if (backend === undefined || proxy === undefined) {
            throw new Error('the backend or the proxy did not start (see beforeAll)');
          }
          await conformanceCase.run(proxy.address, backend, options);
        },
        conformanceCase.timeoutFor(options),
      );
    }
  });
}
