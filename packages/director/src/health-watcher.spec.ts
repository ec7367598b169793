import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Backend } from '@grpc-proxy/handler';
import type { ServingStatusMap } from 'grpc-health-check';
import { HEALTH_CHECK_DEFAULTS, createBackend } from './index';
import type { HealthStatus, OwnedBackend } from './index';
import type { WatcherSettings } from './health-watcher';
import { HealthWatcher } from './health-watcher';
import { unusedAddress } from './test-support/addresses';
import { waitUntil } from './test-support/calls';
import type { HealthFlavour, HealthServer } from './test-support/health-server';
import { startHealthServer } from './test-support/health-server';

const fastBackoff = { initialMs: 5, maxMs: 20 };

/** A watcher on one address, with what it reported and when it asked for a client. */
interface Watched {
  readonly watcher: HealthWatcher;
  /** Every `(status, previous)` the watcher reported, in order. */
  readonly reports: [HealthStatus, HealthStatus][];
  /** When each health call was started (`performance.now()`): one `client()` per call. */
  readonly callTimes: number[];
  /** Resolves once `count` reports are in (bounded). */
  reportsReach(count: number): Promise<void>;
  /** Resolves once `count` health calls were started (bounded). */
  callsReach(count: number): Promise<void>;
}

describe('HealthWatcher', () => {
  const cleanups: (() => unknown)[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function server(initial?: ServingStatusMap, flavour?: HealthFlavour) {
    const started = await startHealthServer(initial, flavour);
    cleanups.push(() => started.stop());
    return started;
  }

  function watch(target: string | OwnedBackend, settings: Partial<WatcherSettings> = {}): Watched {
    const owned = typeof target === 'string' ? createBackend(target, { name: 'watched' }) : target;
    const updates = new EventEmitter();
    const reports: [HealthStatus, HealthStatus][] = [];
    const callTimes: number[] = [];
    const backend: Backend = {
      name: owned.name,
      client: () => {
        callTimes.push(performance.now());
        updates.emit('update');
        return owned.client();
      },
    };
    const watcher = new HealthWatcher(
      backend,
      { service: '', backoff: fastBackoff, ...HEALTH_CHECK_DEFAULTS, ...settings },
      (status, previous) => {
        reports.push([status, previous]);
        updates.emit('update');
      },
    );
    cleanups.push(() => {
      watcher.close();
      owned.close();
    });
    watcher.start();
    return {
      watcher,
      reports,
      callTimes,
      reportsReach: (count) => waitUntil(updates, 'update', () => reports.length >= count),
      callsReach: (count) => waitUntil(updates, 'update', () => callTimes.length >= count),
    };
  }

  /** Counts `event` on a health server from now on. */
  function count(started: HealthServer, event: 'watch' | 'check'): () => number {
    let seen = 0;
    started.events.on(event, () => seen++);
    return () => seen;
  }

  describe('Watch', () => {
    it('reports the first answer, then each change once, on one stream', async () => {
      const started = await server({ '': 'SERVING' });
      const watches = count(started, 'watch');
      const checks = count(started, 'check');
      const watched = watch(started.address);
      expect(watched.watcher.settled).toBe(false);
      expect(watched.watcher.status).toBe('UNKNOWN');
      await watched.reportsReach(1);
      expect(watched.watcher.settled).toBe(true);

      started.setStatus('', 'NOT_SERVING');
      await watched.reportsReach(2);
      started.setStatus('', 'NOT_SERVING');
      started.setStatus('', 'SERVING');
      await watched.reportsReach(3);
      expect(watched.reports).toEqual([
        ['SERVING', 'UNKNOWN'],
        ['NOT_SERVING', 'SERVING'],
        ['SERVING', 'NOT_SERVING'],
      ]);
      expect(watched.watcher.status).toBe('SERVING');
      expect([watches(), checks(), watched.callTimes.length]).toEqual([1, 0, 1]);
    });

    it('reports a first UNKNOWN answer, and SERVICE_UNKNOWN for a service the server does not know', async () => {
      const started = await server({ '': 'SERVING', 'acme.v1.Starting': 'UNKNOWN' });
      const starting = watch(started.address, { service: 'acme.v1.Starting' });
      const unknown = watch(started.address, { service: 'acme.v1.Nope' });
      await Promise.all([starting.reportsReach(1), unknown.reportsReach(1)]);
      expect(starting.reports).toEqual([['UNKNOWN', 'UNKNOWN']]);
      expect(starting.watcher.settled).toBe(true);
      expect(unknown.reports).toEqual([['SERVICE_UNKNOWN', 'UNKNOWN']]);
    });
  });

  describe('Check fallback', () => {
    it('polls Check every pollIntervalMs where Watch is UNIMPLEMENTED', async () => {
      const started = await server({ '': 'SERVING' }, 'check-only');
      const checks = count(started, 'check');
      const watched = watch(started.address, { pollIntervalMs: 10 });
      await watched.reportsReach(1);
      started.setStatus('', 'NOT_SERVING');
      await watched.reportsReach(2);
      const before = checks();
      await watched.callsReach(watched.callTimes.length + 3);
      expect(watched.reports).toEqual([
        ['SERVING', 'UNKNOWN'],
        ['NOT_SERVING', 'SERVING'],
      ]);
      expect(checks()).toBeGreaterThanOrEqual(before + 2);
      // The first call is the Watch that came back UNIMPLEMENTED; every later one is a Check.
      const gaps = watched.callTimes
        .slice(2)
        .map((time, index) => time - watched.callTimes[index + 1]);
      for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(9);
    });

    it('maps Check errors: NOT_FOUND is SERVICE_UNKNOWN, no health service is UNIMPLEMENTED', async () => {
      const checkOnly = await server({ '': 'SERVING' }, 'check-only');
      const bare = await server({}, 'none');
      const unknown = watch(checkOnly.address, { service: 'acme.v1.Nope' });
      const none = watch(bare.address);
      await Promise.all([unknown.reportsReach(1), none.reportsReach(1)]);
      expect(unknown.reports).toEqual([['SERVICE_UNKNOWN', 'UNKNOWN']]);
      expect(none.reports).toEqual([['UNIMPLEMENTED', 'UNKNOWN']]);
    });

    it('gives each Check a deadline of checkTimeoutMs, then reports UNREACHABLE', async () => {
      const silent = await server({}, 'check-hangs');
      const watched = watch(silent.address, { checkTimeoutMs: 50 });
      await watched.reportsReach(1);
      const checkStarted = watched.callTimes[1];
      expect(watched.reports).toEqual([['UNREACHABLE', 'UNKNOWN']]);
      expect(performance.now() - checkStarted).toBeGreaterThanOrEqual(49);
    });
  });

  describe('failures', () => {
    it('retries a failed Watch with growing backoff, reporting UNREACHABLE once', async () => {
      const watched = watch(await unusedAddress(), {
        backoff: { initialMs: 40, maxMs: 200, multiplier: 2, jitter: 0 },
      });
      await watched.callsReach(5);
      const gaps = watched.callTimes.slice(1).map((time, index) => time - watched.callTimes[index]);
      const expected = [40, 80, 160, 200];
      gaps.forEach((gap, index) => expect(gap).toBeGreaterThanOrEqual(expected[index] - 2));
      expect(watched.reports).toEqual([['UNREACHABLE', 'UNKNOWN']]);
    });

    it('treats a backend that cannot give a client as UNREACHABLE, retried with backoff', async () => {
      const closed = createBackend('127.0.0.1:1', { name: 'closed' });
      closed.close();
      const watched = watch(closed);
      await watched.callsReach(3);
      expect(watched.reports).toEqual([['UNREACHABLE', 'UNKNOWN']]);
      expect(watched.watcher.settled).toBe(true);
    });
  });

  describe('close', () => {
    it('cancels an open Watch stream and reports nothing more', async () => {
      const started = await server({ '': 'SERVING' });
      const watches = count(started, 'watch');
      const watched = watch(started.address);
      await watched.reportsReach(1);
      const cancelled = new Promise<void>((resolve) =>
        started.events.once('watchCancelled', () => resolve()),
      );
      watched.watcher.close();
      watched.watcher.close();
      await cancelled;
      started.setStatus('', 'NOT_SERVING');
      // A watcher started after the close sees the change; the closed one must not.
      const control = watch(started.address);
      await control.reportsReach(1);
      expect(control.reports).toEqual([['NOT_SERVING', 'UNKNOWN']]);
      expect(watched.reports).toEqual([['SERVING', 'UNKNOWN']]);
      expect(watches()).toBe(2);
      expect(watched.callTimes).toHaveLength(1);
    });

    it('clears a pending retry: no health call after close', async () => {
      const address = await unusedAddress();
      const backoff = { initialMs: 20, maxMs: 20, jitter: 0 };
      const closing = watch(address, { backoff });
      const control = watch(address, { backoff });
      await closing.reportsReach(1);
      closing.watcher.close();
      const callsAtClose = closing.callTimes.length;
      await control.callsReach(callsAtClose + 3);
      expect(closing.callTimes).toHaveLength(callsAtClose);
    });

    it('stops polling Check', async () => {
      const started = await server({ '': 'SERVING' }, 'check-only');
      const closing = watch(started.address, { pollIntervalMs: 10 });
      const control = watch(started.address, { pollIntervalMs: 10 });
      await closing.callsReach(3);
      closing.watcher.close();
      const callsAtClose = closing.callTimes.length;
      await control.callsReach(callsAtClose + 3);
      expect(closing.callTimes).toHaveLength(callsAtClose);
      expect(closing.reports).toEqual([['SERVING', 'UNKNOWN']]);
    });
  });
});
