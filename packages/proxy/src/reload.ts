import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { BackendPool } from './backend-pool';
import type { ResolvedProxyConfig, ServerTlsConfig } from './config/types';
import type { EngineServer } from './engine-server';
import { buildGeneration, type Generation } from './generation';
import type { ProxyMetrics } from './metrics';

/** How a reload went: what `ProxyHandle.reload` resolves with and `POST /reload` answers. */
export type ReloadResult =
  | {
      readonly result: 'success';
      /** Top-level fields whose new value is in effect (`routes`, `backends`, `listen`, `tls`...). */
      readonly changed: readonly string[];
      /** Backends by name: made for this config, dropped (closed once idle), or rebuilt. */
      readonly backends: {
        readonly added: readonly string[];
        readonly removed: readonly string[];
        readonly replaced: readonly string[];
      };
      /**
       * Fields that changed in the file but keep their running value until a restart (`engine`,
       * `workers`, `admin`; on the http2 engine also `limits`, `metadata` and TLS). Empty: all
       * applied.
       */
      readonly restartRequired: readonly string[];
      /** Every listen address now, with real ports. */
      readonly addresses: readonly string[];
    }
  | {
      readonly result: 'failure';
      /** Why: the config's issues (as `check-config` reports them) or what could not be applied. */
      readonly error: string;
    };

/** One listener: a listen address of the config, and the address it is bound at. */
export interface Listener {
  /** As the config gives it (`127.0.0.1:0`). */
  readonly address: string;
  /** With the real port (`127.0.0.1:43121`). */
  readonly bound: string;
}

/** The running proxy, as a reload changes it. */
export interface Reloadable {
  /** The generation new calls are routed by. */
  generation: Generation;
  /** The listeners, in order: each listen address of the running config and where it is bound. */
  readonly listeners: Listener[];
  readonly server: EngineServer;
  readonly pool: BackendPool;
  readonly metrics: ProxyMetrics;
  readonly logger: Logger;
}

/** Fields a running proxy cannot change: they keep their running value until a restart. */
const RESTART_FIELDS = ['engine', 'workers', 'admin'] as const;
/** Fields of the engine's own server: new connections get a new server where the engine can. */
const ENGINE_FIELDS = ['limits', 'metadata'] as const;

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The listeners' TLS files' contents: a rotated certificate changes it under the same path. */
export function tlsFingerprint(tls: ServerTlsConfig | undefined): string | undefined {
  if (tls === undefined) return undefined;
  const hash = createHash('sha256');
  for (const file of [tls.cert, tls.key, tls.clientCa]) {
    hash.update(file === undefined ? '-' : readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

function tlsMode(tls: ServerTlsConfig | undefined): string {
  if (tls === undefined) return 'plaintext';
  return tls.clientCa === undefined ? 'tls' : 'mutual tls';
}

/**
 * Applies `next` to the running proxy: new listen addresses are bound first (a failure leaves
 * everything as it was), the engine serves new connections with new limits, metadata policy or
 * TLS mode when it can (else the TLS files are rotated), the new generation (reusing unchanged
 * backends) takes every new call, the replaced one's groups close once their calls are released,
 * and listen addresses no longer in the config are closed gracefully. Fields the engine cannot
 * change while running keep their running values (listed in `restartRequired`).
 *
 * @param tlsFingerprintOfRunning - the running TLS files' fingerprint (from the last apply)
 * @returns the result and the TLS fingerprint now in effect
 * @throws Error when a new listener cannot be bound; nothing has changed then
 */
export async function applyConfig(
  proxy: Reloadable,
  next: ResolvedProxyConfig,
  tlsFingerprintOfRunning: string | undefined,
): Promise<{ result: ReloadResult; tlsFingerprint: string | undefined }> {
  const running = proxy.generation.config;
  const restartRequired: string[] = RESTART_FIELDS.filter(
    (field) => !same(running[field], next[field]),
  );
  const changed: string[] = [];
  const nextFingerprint = tlsFingerprint(next.tls);
  const opened = await openListeners(proxy, next.listen);
  const kept = Object.fromEntries(RESTART_FIELDS.map((field) => [field, running[field]]));
  const engineFields: string[] = ENGINE_FIELDS.filter(
    (field) => !same(running[field], next[field]),
  );
  const modeChanged = tlsMode(running.tls) !== tlsMode(next.tls);
  if (modeChanged) engineFields.push('tls');
  const filesChanged = nextFingerprint !== tlsFingerprintOfRunning || !same(running.tls, next.tls);
  let engine = { ...running, fingerprint: tlsFingerprintOfRunning };
  if (engineFields.length > 0 && proxy.server.reconfigure({ ...next, ...kept })) {
    // The new server reads the TLS files again: a rotation comes with it.
    engine = { ...next, fingerprint: nextFingerprint };
    changed.push(...engineFields, ...(filesChanged && !modeChanged ? ['tls'] : []));
  } else {
    restartRequired.push(...engineFields.map((field) => (field === 'tls' ? 'tls (mode)' : field)));
    if (filesChanged && !modeChanged) {
      if (next.tls !== undefined && proxy.server.updateTls(next.tls)) {
        engine = { ...engine, tls: next.tls, fingerprint: nextFingerprint };
        changed.push('tls');
      } else restartRequired.push(`tls (the ${running.engine} engine cannot rotate certificates)`);
    }
  }
  const effective: ResolvedProxyConfig = {
    ...next,
    ...kept,
    limits: engine.limits,
    metadata: engine.metadata,
  };
  if (engine.tls === undefined) delete effective.tls;
  else effective.tls = engine.tls;
  const fingerprint = engine.fingerprint;
  let generation: Generation;
  try {
    generation = await buildGeneration(effective, proxy.pool, proxy.metrics, proxy.logger);
  } catch (error) {
    await Promise.all(opened.opened.map((listener) => proxy.server.unlisten(listener.bound, 0)));
    throw error;
  }
  const previous = proxy.generation;
  proxy.generation = generation;
  proxy.pool.release(previous.pooled);

  for (const listener of opened.dropped) {
    // In the background: the reload is done once new calls use the new config.
    void proxy.server.unlisten(listener.bound, next.shutdown.drainTimeoutMs);
  }
  proxy.listeners.splice(0, proxy.listeners.length, ...opened.kept, ...opened.opened);
  if (opened.opened.length > 0 || opened.dropped.length > 0) changed.push('listen');
  proxy.logger.level = next.log.level;
  for (const field of [
    'backends',
    'routes',
    'defaultBackend',
    'mirror',
    'log',
    'shutdown',
  ] as const) {
    if (!same(running[field], next[field])) changed.push(field);
  }
  const names = (config: ResolvedProxyConfig) => config.backends.map((backend) => backend.name);
  const added = names(next).filter((name) => !names(running).includes(name));
  const result: ReloadResult = {
    result: 'success',
    changed,
    backends: {
      added,
      removed: names(running).filter((name) => !names(next).includes(name)),
      replaced: generation.pooled.created.filter((name) => !added.includes(name)),
    },
    restartRequired,
    addresses: proxy.listeners.map((listener) => listener.bound),
  };
  return { result, tlsFingerprint: fingerprint };
}

/**
 * Binds the addresses of `listen` the proxy does not listen on yet (an address given twice is
 * bound twice); on a failure closes those just opened and throws. Says which listeners stay and
 * which are no longer in `listen`.
 */
async function openListeners(proxy: Reloadable, listen: readonly string[]) {
  const dropped = [...proxy.listeners];
  const kept: Listener[] = [];
  const opened: Listener[] = [];
  try {
    for (const address of listen) {
      const index = dropped.findIndex((listener) => listener.address === address);
      if (index >= 0) kept.push(...dropped.splice(index, 1));
      else opened.push({ address, bound: await proxy.server.listen(address) });
    }
  } catch (error) {
    await Promise.all(opened.map((listener) => proxy.server.unlisten(listener.bound, 0)));
    throw error;
  }
  return { kept, opened, dropped };
}
