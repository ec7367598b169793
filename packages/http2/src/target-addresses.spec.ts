/**
 * Backend names resolved to all their addresses by the session pool: a session per address, new
 * requests taking the addresses in turn, the name kept as `:authority`; resolved again after a
 * failed connection and once the addresses are older than the interval (gone addresses take no
 * new request, their sessions close once idle); a resolution failure is a failed attempt naming
 * the host; the target is up while any address connects. Servers on 127.0.0.1, 127.0.0.2...
 * (all loopback) share a port, and a lookup given to the pool says which of them a name has.
 */
import type { LookupAddress } from 'node:dns';
import { EventEmitter, once } from 'node:events';
import type { Http2Session } from 'node:http2';
import { CLOSED_BEFORE_SETTINGS } from './pooled-session';
import { ReconnectBackoff, type SessionOptions, type SessionPool } from './session-pool';
import {
  answerOf,
  openThrough,
  recordingBackend,
  requestThrough,
  usePools,
  type AddressServer,
  type ServerKind,
} from './test-support/address-servers';
import { useTestCerts } from './test-support/certs';
import { waitFor } from './test-support/wait';

/** Resolves once `session` closed (`once` would reject on its 'error'). */
function closed(session: Http2Session): Promise<void> {
  if (session.destroyed) return Promise.resolve();
  return new Promise((resolve) => session.once('close', () => resolve()));
}

describe('backend names resolved to all their addresses', () => {
  const pools = usePools();
  const events = new EventEmitter();
  let pool: SessionPool | undefined;
  let servers: AddressServer[];
  /** What the name resolves to: addresses, or the error the lookup fails with. */
  let answer: string[] | Error;
  let lookups: string[];
  let port: number;

  /** The pool's lookup: records each name; says it is done once the pool took the answer in. */
  function lookup(hostname: string): Promise<LookupAddress[]> {
    lookups.push(hostname);
    const given = answer;
    setImmediate(() => events.emit('lookup'));
    if (given instanceof Error) return Promise.reject(given);
    return Promise.resolve(given.map((address) => ({ address, family: 4 })));
  }

  /** Resolves once the pool looked a name up `count` times and took the answers in. */
  const lookedUp = (count: number) =>
    waitFor(
      events,
      'lookup',
      () => lookups.length >= count,
      () => `${lookups.length} lookups of ${count}`,
    );

  /** Servers of `kinds` on 127.0.0.1, 127.0.0.2..., the name resolving to all; its target. */
  async function start(kinds: ServerKind[], options: Partial<SessionOptions> = {}) {
    servers = await pools.servers(kinds);
    port = servers[0].port;
    answer = servers.map((server) => server.host);
    pool = pools.pool({ lookup, ...options });
    return `dns:backend.test:${port}`;
  }

  /** `count` requests one after the other: what each got. */
  async function answers(target: string, count: number): Promise<string[]> {
    const got: string[] = [];
    for (let request = 0; request < count; request++) {
      got.push(await requestThrough(pool!, target));
    }
    return got;
  }

  const from = (host: string) => `${host} backend.test:${port}`;

  beforeEach(() => {
    lookups = [];
  });

  /** Requests one after the other until one gets `wanted` (at most 20): what each got. */
  async function until(target: string, wanted: string): Promise<string[]> {
    const got: string[] = [];
    while (got.length < 20 && got.at(-1) !== wanted) got.push(await requestThrough(pool!, target));
    return got;
  }

  /** Four requests, which must take `x` and `y` in turn (starting with either). */
  async function inTurn(target: string, x: string, y: string): Promise<void> {
    const got = await answers(target, 4);
    const [first, second] = got[0] === x ? [x, y] : [y, x];
    expect(got).toEqual([first, second, first, second]);
  }

  it('resolves a name once to all its addresses and takes them in turn, the name as :authority', async () => {
    const target = await start(['backend', 'backend']);
    const [a, b] = [from('127.0.0.1'), from('127.0.0.2')];
    // The first goes to the first address; the second address connects meanwhile, and takes
    // calls once it has.
    const first = await until(target, b);
    expect([first[0], first.at(-1), first.slice(0, -1).every((got) => got === a)]).toEqual([
      a,
      b,
      true,
    ]);
    await inTurn(target, a, b);
    expect(lookups).toEqual(['backend.test']);
    expect(servers.map((server) => server.connections)).toEqual([1, 1]);
  });

  it('sends no call to an address that is still connecting while another is ready', async () => {
    const target = await start(['backend', 'silent']);
    expect(await answers(target, 6)).toEqual(Array(6).fill(from('127.0.0.1')));
    // One attempt to the silent address, in the background, still waiting for its settings.
    expect(servers.map((server) => server.connections)).toEqual([1, 1]);
  });

  it('resolves every form of a name target, and never an IP literal', async () => {
    await start(['backend', 'backend']);
    for (const form of ['dns:///', 'dns://8.8.8.8/', '']) {
      expect(await requestThrough(pool!, `${form}backend.test:${port}`)).toBe(from('127.0.0.1'));
    }
    expect(await requestThrough(pool!, `127.0.0.2:${port}`)).toBe(`127.0.0.2 127.0.0.2:${port}`);
    expect(lookups).toEqual(['backend.test', 'backend.test', 'backend.test']);
  });

  it('resolves again after a failed connection: a new address is used, a gone one gets nothing', async () => {
    const target = await start(['backend', 'sink', 'backend']);
    const [a, c] = [from('127.0.0.1'), from('127.0.0.3')];
    answer = ['127.0.0.1', '127.0.0.2'];
    expect(await requestThrough(pool!, target)).toBe(a);
    answer = ['127.0.0.1', '127.0.0.3'];
    // It connects 127.0.0.2 in the background, which drops the connection: resolved again.
    expect(await requestThrough(pool!, target)).toBe(a);
    await lookedUp(2);
    const before = await until(target, c);
    expect([before.at(-1), before.slice(0, -1).every((got) => got === a)]).toEqual([c, true]);
    await inTurn(target, a, c);
    expect(servers.map((server) => server.connections)).toEqual([1, 1, 1]);
    expect(lookups).toHaveLength(2);
  });

  it('resolves again once the addresses are older than resolveIntervalMs; a gone address closes its session once its requests ended', async () => {
    const target = await start(['backend', 'backend'], { resolveIntervalMs: 0 });
    const held = openThrough(pool!, target);
    await once(held.pooled.session, 'remoteSettings');
    answer = ['127.0.0.2'];
    // Taken from the addresses known when it came (the name is resolved meanwhile): the only
    // one connected.
    expect(await requestThrough(pool!, target)).toBe(from('127.0.0.1'));
    await lookedUp(2);
    const session = held.pooled.session;
    expect([session.closed, held.pooled.usable]).toEqual([false, false]);
    expect(await answers(target, 3)).toEqual(Array(3).fill(from('127.0.0.2')));
    held.stream.end();
    expect(await answerOf(held)).toBe(from('127.0.0.1'));
    await closed(session);
    expect(servers.map((server) => server.connections)).toEqual([1, 1]);
  });

  it('fails an attempt whose name does not resolve, naming the host, with backoff and reports', async () => {
    const target = await start(['backend']);
    answer = Object.assign(new Error('getaddrinfo ENOTFOUND backend.test'), { code: 'ENOTFOUND' });
    const reports: Array<string | undefined> = [];
    const reporter = recordingBackend(
      reports,
      () => reports.at(-1) === undefined,
      () => events.emit('report'),
    );
    const failed = pool!.get(target, undefined, reporter);
    await closed(failed.session);
    const why = 'resolving backend.test failed: getaddrinfo ENOTFOUND backend.test';
    expect([failed.failure?.message, reports, pool!.probing]).toEqual([why, [why], 1]);
    let refused: unknown;
    try {
      pool!.get(target, undefined, reporter);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(ReconnectBackoff);
    expect((refused as ReconnectBackoff).lastError.message).toBe(why);
    // The name resolves again: the next probe connects.
    answer = ['127.0.0.1'];
    await waitFor(
      events,
      'report',
      () => reports.length > 1 && reports.at(-1) === undefined,
      () => `reports ${JSON.stringify(reports)}`,
    );
    expect(reports.at(-1)).toBeUndefined();
    expect(await requestThrough(pool!, target)).toBe(from('127.0.0.1'));
  });

  it('resolves a dead address again when it starts failing, not at each of its probes', async () => {
    const target = await start(['sink']);
    const reports: Array<string | undefined> = [];
    const reporter = recordingBackend(
      reports,
      () => reports.at(-1) === undefined,
      () => events.emit('report'),
    );
    pool!.get(target, undefined, reporter);
    // The attempt, then three probes (100, 200, 400 ms later), all dropped.
    await waitFor(
      events,
      'report',
      () => reports.length === 4,
      () => `${reports.length} reports`,
    );
    expect(reports).toEqual(Array(4).fill(CLOSED_BEFORE_SETTINGS));
    expect(lookups).toEqual(['backend.test', 'backend.test']);
  });

  it('resolves the name of a target out of rotation at its probes once the addresses are old', async () => {
    const target = await start(['sink', 'backend'], { resolveIntervalMs: 0 });
    answer = ['127.0.0.1'];
    const reports: Array<string | undefined> = [];
    const reporter = recordingBackend(
      reports,
      () => reports.at(-1) === undefined,
      () => events.emit('report'),
    );
    pool!.get(target, undefined, reporter);
    await lookedUp(2); // the first failure's
    answer = ['127.0.0.2']; // the backend moved; no call comes while it is out of rotation
    await waitFor(
      events,
      'report',
      () => reports.at(-1) === undefined && reports.length > 0,
      () => `reports ${JSON.stringify(reports)}`,
    );
    expect(reports.slice(0, -1).every((report) => report === CLOSED_BEFORE_SETTINGS)).toBe(true);
    expect(await requestThrough(pool!, target)).toBe(from('127.0.0.2'));
  });

  it('keeps the target up while any address connects, and reports it down once every address failed', async () => {
    const target = await start(['sink', 'backend', 'sink']);
    const reports: Array<string | undefined> = [];
    const reporter = recordingBackend(reports, () => reports.at(-1) === undefined);
    const attempt = async (): Promise<void> => {
      const { session } = pool!.get(target, undefined, reporter);
      await new Promise((resolve) => {
        session.once('close', resolve);
        session.once('remoteSettings', resolve);
      });
    };
    answer = ['127.0.0.1', '127.0.0.2'];
    await attempt(); // 127.0.0.1: dropped
    expect(reports).toEqual([]);
    await attempt(); // 127.0.0.2: connected
    expect([reports, pool!.probing]).toEqual([[undefined], 0]);
    // Another name of the same servers, all of whose addresses drop connections.
    answer = ['127.0.0.1', '127.0.0.3'];
    const dead = `dns:dead.test:${port}`;
    const dropped = async (): Promise<void> => {
      const { session } = pool!.get(dead, undefined, reporter);
      await closed(session);
    };
    await dropped();
    expect(reports).toEqual([undefined]);
    await dropped();
    expect([reports, pool!.probing]).toEqual([[undefined, CLOSED_BEFORE_SETTINGS], 1]);
  });
});

describe('a TLS backend name resolved to an address', () => {
  const certs = useTestCerts();
  const pools = usePools();

  it('checks the certificate against the name, never the address, and keeps the name as :authority', async () => {
    // The certificate is valid for localhost and 127.0.0.1, not for 127.0.0.2.
    const { port } = await pools.server('backend', '127.0.0.2', 0, certs.server);
    const pool = pools.pool({ lookup: async () => [{ address: '127.0.0.2', family: 4 }] });
    const tls = { ca: certs.ca.cert };
    expect(await requestThrough(pool, `localhost:${port}`, tls)).toBe(
      `127.0.0.2 localhost:${port}`,
    );
    // What a check against the address would have said.
    expect(await requestThrough(pool, `127.0.0.2:${port}`, tls)).toBe(
      "failed: Hostname/IP does not match certificate's altnames: IP: 127.0.0.2 is not in the cert's list: 127.0.0.1",
    );
  });
});
