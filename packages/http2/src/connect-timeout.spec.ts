/**
 * The connect timeout of the session pool: a session whose backend has not sent its HTTP/2
 * settings in time (a server that accepts TCP and never speaks, a name that takes too long to
 * resolve) is destroyed, a failed attempt with backoff and a report naming the timeout; a session
 * that connected is not limited.
 */
import { once } from 'node:events';
import type { Http2ProxyOptions } from './options';
import { createHttp2Proxy } from './server';
import type { ReconnectBackoff } from './session-pool';
import {
  answerOf,
  openThrough,
  recordingBackend,
  requestThrough,
  usePools,
} from './test-support/address-servers';

describe('connect timeout of backend sessions', () => {
  const pools = usePools();

  it('destroys a session whose backend accepts TCP and never speaks: a failed attempt, reported, with backoff', async () => {
    const server = await pools.server('silent', '127.0.0.1');
    const target = `127.0.0.1:${server.port}`;
    const pool = pools.pool({ connectTimeoutMs: 100 });
    const reports: Array<string | undefined> = [];
    const started = Date.now();
    const request = openThrough(pool, target);
    pool.get(target, undefined, recordingBackend(reports)); // the same session, while it connects
    request.stream.end();
    const why = `connecting to ${target} timed out after 100 ms`;
    expect(await answerOf(request)).toBe(`failed: ${why}`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(99);
    expect([reports, request.pooled.session.destroyed, server.connections]).toEqual([
      [why],
      true,
      1,
    ]);
    let refused: unknown;
    try {
      pool.get(target, undefined);
    } catch (error) {
      refused = error;
    }
    expect((refused as ReconnectBackoff).lastError.message).toBe(why);
  });

  it('counts the name resolution in the connection attempt', async () => {
    const pool = pools.pool({
      connectTimeoutMs: 50,
      lookup: () => new Promise(() => undefined), // never answers
    });
    expect(await requestThrough(pool, 'dns:slow.test:443')).toBe(
      'failed: connecting to dns:slow.test:443 timed out after 50 ms',
    );
  });

  it('names the address of a resolved name that timed out', async () => {
    const server = await pools.server('silent', '127.0.0.2');
    const pool = pools.pool({
      connectTimeoutMs: 50,
      lookup: async () => [{ address: '127.0.0.2', family: 4 }],
    });
    const target = `dns:backend.test:${server.port}`;
    expect(await requestThrough(pool, target)).toBe(
      `failed: connecting to ${target} (127.0.0.2) timed out after 50 ms`,
    );
  });

  it('does not limit a session once connected', async () => {
    const server = await pools.server('backend', '127.0.0.1');
    const target = `127.0.0.1:${server.port}`;
    const pool = pools.pool({ connectTimeoutMs: 50 });
    const held = openThrough(pool, target);
    await once(held.pooled.session, 'remoteSettings');
    // The request stays open past the connect timeout (the time is the case, not a wait for an event).
    await new Promise((resolve) => setTimeout(resolve, 150));
    held.stream.end();
    expect(await answerOf(held)).toBe(`127.0.0.1 ${target}`);
    expect(await requestThrough(pool, target)).toBe(`127.0.0.1 ${target}`);
    expect(server.connections).toBe(1);
  });

  it('refuses a bad connect timeout, resolve interval or lookup', () => {
    const director = () => ({ backend: { target: 'x:1' } });
    expect(() => createHttp2Proxy({ director, backendConnectAttemptTimeoutMs: -1 })).toThrow(
      'backendConnectAttemptTimeoutMs must be an integer >= 0, got -1',
    );
    expect(() => createHttp2Proxy({ director, backendResolveIntervalMs: 0.5 })).toThrow(
      'backendResolveIntervalMs must be an integer >= 0, got 0.5',
    );
    const lookup = 'dns' as unknown as Http2ProxyOptions['backendLookup'];
    expect(() => createHttp2Proxy({ director, backendLookup: lookup })).toThrow(
      'backendLookup must be a function, got string',
    );
  });
});
