import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { status, type StatusObject } from '@grpc/grpc-js';
import type { ComposedDirector } from '@grpc-proxy/director';
import type { ProxyCall, Route } from '@grpc-proxy/handler';
import { BackendPool } from './backend-pool';
import type { BackendGroup } from './backends';
import type { ResolvedBackend } from './config/types';

const CHANNEL = { maxReceiveMessageLength: 1024 };
const CALL = {} as ProxyCall;
const OK: StatusObject = { code: status.OK, details: '', metadata: undefined! };

/** A group whose director gives a route per call and records what happens to it. */
function fakeGroup(backend: ResolvedBackend, log: string[], async = false): BackendGroup {
  const route = (): Route => ({
    backend: { name: backend.name, target: backend.targets[0] },
    release: () => log.push(`${backend.name}: released`),
  });
  // A function's `name` is read-only: the director's name is defined over it.
  const director = Object.defineProperties(
    (_call: ProxyCall) => (async ? Promise.resolve(route()) : route()),
    {
      name: { value: backend.name },
      isAvailable: { value: () => true },
      close: { value: () => log.push(`${backend.name}: closed`) },
    },
  ) as unknown as ComposedDirector;
  return { name: backend.name, director, ready: () => Promise.resolve(), close: director.close };
}

const backend = (name: string, targets = ['t:1'], extra: Partial<ResolvedBackend> = {}) =>
  ({ name, targets, balancing: 'round_robin', ...extra }) as ResolvedBackend;

describe('BackendPool', () => {
  let log: string[];
  let retired: string[];
  let pool: BackendPool;
  let async: boolean;

  beforeEach(() => {
    log = [];
    retired = [];
    async = false;
    pool = new BackendPool(
      (definition) => {
        log.push(`${definition.name}: created`);
        return fakeGroup(definition, log, async);
      },
      (definition) => retired.push(definition.name),
    );
  });

  it('keeps the group of an unchanged backend and makes a new one for a changed one', () => {
    const first = pool.acquire([backend('a'), backend('b')], CHANNEL);
    const second = pool.acquire([backend('a'), backend('b', ['t:2'])], CHANNEL);
    expect(second.groups.get('a')).toBe(first.groups.get('a'));
    expect(second.groups.get('b')).not.toBe(first.groups.get('b'));
    expect([first.created, second.created]).toEqual([['a', 'b'], ['b']]);
    // Other channel options (message limits, keepalive) make other channels: a new group.
    expect(pool.acquire([backend('a')], { maxReceiveMessageLength: 1 }).created).toEqual(['a']);
  });

  it('closes a replaced group once the last of its routes is released, and only then', async () => {
    const old = pool.acquire([backend('a')], CHANNEL);
    const route = await old.directors.get('a')!(CALL);
    pool.acquire([backend('b')], CHANNEL);
    pool.release(old);
    expect([pool.routesInFlight, retired]).toEqual([1, []]);

    route.release!(OK);
    route.release!(OK); // engines release once; a second call changes nothing
    expect(log).toEqual(['a: created', 'b: created', 'a: released', 'a: closed']);
    expect([pool.routesInFlight, retired]).toEqual([0, ['a']]);
  });

  it('counts the routes an asynchronous director gives', async () => {
    async = true;
    const generation = pool.acquire([backend('a')], CHANNEL);
    const route = await generation.directors.get('a')!(CALL);
    expect(pool.routesInFlight).toBe(1);
    pool.release(generation);
    route.release!(OK);
    expect(retired).toEqual(['a']);
  });

  it('keeps a group that a newer generation still names', () => {
    const old = pool.acquire([backend('a')], CHANNEL);
    pool.acquire([backend('a')], CHANNEL);
    pool.release(old);
    expect([log, retired]).toEqual([['a: created'], []]);
    pool.closeAll();
    expect(log).toEqual(['a: created', 'a: closed']);
  });

  it('makes a new group when a TLS file of the backend has new contents', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'backend-pool-'));
    try {
      const ca = path.join(dir, 'ca.crt');
      const withCa = backend('a', ['t:1'], { tls: { ca } });
      writeFileSync(ca, 'first');
      pool.acquire([withCa], CHANNEL);
      expect(pool.acquire([withCa], CHANNEL).created).toEqual([]);
      writeFileSync(ca, 'rotated');
      expect(pool.acquire([withCa], CHANNEL).created).toEqual(['a']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
