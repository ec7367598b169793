import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import type { ServerOptions } from '@grpc/grpc-js';
import type { Backend } from '@grpc-proxy/handler';
import type { HealthCheckedSet, HealthStatus, OwnedBackend } from './index';
import { createBackend, healthChecked, roundRobin } from './index';
import { untilStatus, pickedName, proxyCall, statusError } from './test-support/calls';
import type { HealthFlavour, HealthServer } from './test-support/health-server';
import { startHealthServer } from './test-support/health-server';
import { startEchoBackends } from './test-support/echo-backends';
import type { ServingStatusMap } from 'grpc-health-check';
import type { EchoServerHandle } from '@grpc-proxy/testing';

const method = '/acme.v1.Echo/Unary';
const fastBackoff = { initialMs: 5, maxMs: 20 };

describe('healthChecked', () => {
  let servers: HealthServer[] = [];
  let sets: HealthCheckedSet[] = [];
  let echoServers: EchoServerHandle[] = [];

  afterEach(async () => {
    for (const set of sets) set.close();
    await Promise.all(servers.map((server) => server.stop()));
    for (const echo of echoServers) echo.forceClose();
    servers = [];
    echoServers = [];
    sets = [];
  });

  async function server(
    initial?: ServingStatusMap,
    flavour?: HealthFlavour,
    bindAddress?: string,
    serverOptions?: ServerOptions,
  ) {
    const started = await startHealthServer(initial, flavour, bindAddress, serverOptions);
    servers.push(started);
    return started;
  }

  function watch(backends: Backend[], options: Parameters<typeof healthChecked>[1] = {}) {
    const set = healthChecked(backends, { backoff: fastBackoff, ...options });
    sets.push(set);
    return set;
  }

  /** One backend on a fresh health server (`''` SERVING), watched alone with 10 ms polling. */
  async function watchOne(name: string, flavour: HealthFlavour) {
    const started = await server({ '': 'SERVING' }, flavour);
    const backend = createBackend(started.address, { name });
    const set = watch([backend], { pollIntervalMs: 10 });
    await set.ready();
    return { started, backend, set };
  }

  /** Three named echo servers from the test kit, watched as a, b, c, all SERVING. */
  async function threeServing() {
    const { servers: started, backends } = await startEchoBackends(['a', 'b', 'c']);
    echoServers.push(...started);
    const set = watch(backends);
    await set.ready();
    return { started, backends, set };
  }

  async function rotation(director: ReturnType<typeof roundRobin>, count: number) {
    const names: string[] = [];
    for (let index = 0; index < count; index++)
      names.push(await pickedName(director(proxyCall(method))));
    return names;
  }

  it('learns every status through Watch and rotates over the serving backends', async () => {
    const { backends, set } = await threeServing();
    expect(backends.map((backend) => set.statusOf(backend))).toEqual([
      'SERVING',
      'SERVING',
      'SERVING',
    ]);
    expect(set.name).toBe('healthChecked(a, b, c)');
    expect(await rotation(roundRobin(set), 6)).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('takes a NOT_SERVING backend out on the next event and back on SERVING', async () => {
    const { started, backends, set } = await threeServing();
    const director = roundRobin(set);
    const changes: [string, HealthStatus, HealthStatus][] = [];
    set.on('change', (backend, now, previous) => changes.push([backend.name, now, previous]));

    started[1].setHealth('', 'NOT_SERVING');
    await untilStatus(set, backends[1], 'NOT_SERVING');
    expect(await rotation(director, 4)).toEqual(['a', 'c', 'a', 'c']);

    started[1].setHealth('', 'SERVING');
    await untilStatus(set, backends[1], 'SERVING');
    expect(await rotation(director, 3)).toEqual(['a', 'b', 'c']);
    expect(changes).toEqual([
      ['b', 'NOT_SERVING', 'SERVING'],
      ['b', 'SERVING', 'NOT_SERVING'],
    ]);
  });

  it('leaves out a stopped backend and fails at once with UNAVAILABLE when all are down', async () => {
    const { started, backends, set } = await threeServing();
    const director = roundRobin(set);
    started[0].forceClose();
    await untilStatus(set, backends[0], 'UNREACHABLE');
    expect(await rotation(director, 4)).toEqual(['b', 'c', 'b', 'c']);

    await Promise.all(
      [1, 2].map(async (index) => {
        started[index].forceClose();
        await untilStatus(set, backends[index], 'UNREACHABLE');
      }),
    );
    expect(set.isAvailable()).toBe(false);
    const expected = statusError(
      status.UNAVAILABLE,
      `no backend available for ${method} in healthChecked(a, b, c) (a: UNREACHABLE, b: UNREACHABLE, c: UNREACHABLE)`,
    );
    expect(() => director(proxyCall(method))).toThrow(expected);
    expect(() => set.route(proxyCall(method))).toThrow(expected);
  });

  it('routes directly to the first serving member (failover)', async () => {
    const { started, backends, set } = await threeServing();
    expect(await pickedName(set.route(proxyCall(method)))).toBe('a');
    started[0].setHealth('', 'NOT_SERVING');
    await untilStatus(set, backends[0], 'NOT_SERVING');
    expect(await pickedName(set.route(proxyCall(method)))).toBe('b');
    expect(set.servingBackends().map((backend) => backend.name)).toEqual(['b', 'c']);
  });

  it('watches the given service name', async () => {
    const started = await server({ '': 'SERVING', 'acme.v1.Echo': 'NOT_SERVING' });
    const echo = createBackend(started.address, { name: 'echo' });
    const unknown = createBackend(started.address, { name: 'unknown' });
    const echoSet = watch([echo], { service: 'acme.v1.Echo' });
    const unknownSet = watch([unknown], { service: 'acme.v1.Nope' });
    await Promise.all([echoSet.ready(), unknownSet.ready()]);
    expect(echoSet.statusOf(echo)).toBe('NOT_SERVING');
    expect(unknownSet.statusOf(unknown)).toBe('SERVICE_UNKNOWN');
    started.setStatus('acme.v1.Echo', 'SERVING');
    await untilStatus(echoSet, echo, 'SERVING');
    expect(echoSet.isAvailable()).toBe(true);
  });

  it('polls Check where Watch is unimplemented', async () => {
    const { started, backend: polled, set } = await watchOne('polled', 'check-only');
    expect(set.statusOf(polled)).toBe('SERVING');
    started.setStatus('', 'NOT_SERVING');
    await untilStatus(set, polled, 'NOT_SERVING');
    expect(set.isAvailable()).toBe(false);
  });

  it('reports UNIMPLEMENTED for a backend without a health service, and never uses it', async () => {
    const { backend: bare, set } = await watchOne('bare', 'none');
    expect(set.statusOf(bare)).toBe('UNIMPLEMENTED');
    expect(() => set.route(proxyCall(method))).toThrow(
      statusError(
        status.UNAVAILABLE,
        `no backend available for ${method} in healthChecked(bare) (bare: UNIMPLEMENTED)`,
      ),
    );
  });

  it('reconnects with backoff when a backend comes back on its address', async () => {
    // A unix socket: no other test can take the address while the backend is away.
    const directory = mkdtempSync(join(tmpdir(), 'director-'));
    const address = `unix:${join(directory, 'late.sock')}`;
    try {
      // grpc-js's own reconnect backoff (1 s by default) would otherwise pace the test.
      const late = createBackend(address, {
        name: 'late',
        channelOptions: {
          'grpc.initial_reconnect_backoff_ms': 20,
          'grpc.max_reconnect_backoff_ms': 50,
        },
      });
      const set = watch([late]);
      await set.ready();
      expect(set.statusOf(late)).toBe('UNREACHABLE');
      await server({ '': 'SERVING' }, 'watch', address);
      await untilStatus(set, late, 'SERVING');
      expect(set.isServing(late)).toBe(true);
    } finally {
      for (const set of sets) set.close();
      await Promise.all(servers.splice(0).map((started) => started.stop()));
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('keeps a SERVING backend in while its connection is cycled (watches again at once)', async () => {
    const cycling = await server({ '': 'SERVING' }, 'watch', undefined, {
      'grpc.max_connection_age_ms': 100,
      'grpc.max_connection_age_grace_ms': 20,
    });
    const backend = createBackend(cycling.address, { name: 'cycling' });
    const changes: HealthStatus[] = [];
    let watches = 0;
    const threeWatches = new Promise<void>((resolve) =>
      cycling.events.on('watch', () => {
        if (++watches === 3) resolve();
      }),
    );
    const set = watch([backend], { backoff: { initialMs: 20, maxMs: 50 } });
    set.on('change', (_backend, now) => changes.push(now));
    await threeWatches;
    expect(changes).toEqual(['SERVING']);
    expect(set.isServing(backend)).toBe(true);
  });

  it('closes its watches and backends, then routes nothing and emits nothing', async () => {
    const { backends, set } = await threeServing();
    const events: unknown[] = [];
    set.on('change', (...args) => events.push(args));
    set.close();
    set.close();
    expect((backends as OwnedBackend[]).map((backend) => backend.closed)).toEqual([
      true,
      true,
      true,
    ]);
    expect(set.isAvailable()).toBe(false);
    expect(() => set.route(proxyCall(method))).toThrow(
      statusError(
        status.UNAVAILABLE,
        `no backend available for ${method} in healthChecked(a, b, c) (closed)`,
      ),
    );
    await set.ready();
    expect(events).toEqual([]);
  });

  it('refuses an empty list, non-backends and duplicates', () => {
    const one = createBackend('127.0.0.1:1');
    expect(() => healthChecked([])).toThrow(
      new TypeError('healthChecked: needs a non-empty list of backends'),
    );
    expect(() => healthChecked([{} as Backend])).toThrow(
      new TypeError('healthChecked: every member must be a backend (name and client())'),
    );
    expect(() => healthChecked([one, one])).toThrow(
      new TypeError('healthChecked: a backend is listed twice'),
    );
    expect(one.closed).toBe(false);
  });
});
