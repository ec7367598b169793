/**
 * The pool's options through the proxy: `backendLookup` gives a name's addresses and calls take
 * in turn those that are connected; `backendConnectAttemptTimeoutMs` ends the attempt on a backend that accepts TCP
 * and never speaks HTTP/2, its call failing with `UNAVAILABLE` naming the timeout, or retried on
 * the next backend the director gives.
 */
import { Client, credentials, status } from '@grpc/grpc-js';
import type { CallReport, StreamDirector } from '@grpc-proxy/handler';
import { callRawUnary } from '@grpc-proxy/testing';
import type { Http2ProxyOptions } from './options';
import {
  startAddressServer,
  startAddressServers,
  type AddressServer,
} from './test-support/address-servers';
import { startHttp2Proxy, type RunningProxy } from './test-support/proxy';
import { useRoutedProxy } from './test-support/routed-proxy';

const METHOD = '/acme.v1.Svc/Do';

describe('the pool options of the proxy', () => {
  let servers: AddressServer[] = [];
  let proxy: RunningProxy | undefined;
  let client: Client | undefined;

  afterEach(async () => {
    client?.close();
    await proxy?.close();
    await Promise.all(servers.map((server) => server.close()));
    client = proxy = undefined;
    servers = [];
  });

  async function start(director: StreamDirector, options: Omit<Http2ProxyOptions, 'director'>) {
    proxy = await startHttp2Proxy(director, options);
    client = new Client(proxy.address, credentials.createInsecure());
  }

  const call = () => callRawUnary(client!, METHOD, Buffer.from('x'));

  it('takes the addresses backendLookup gives for a name in turn, call after call', async () => {
    servers = await startAddressServers(['backend', 'backend']);
    const target = `dns:backend.test:${servers[0].port}`;
    const looked: string[] = [];
    await start(() => ({ backend: { name: 'named', target } }), {
      backendLookup: async (hostname) => {
        looked.push(hostname);
        return servers.map(({ host }) => ({ address: host, family: 4 }));
      },
    });
    const answer = async (): Promise<string> => {
      const outcome = await call();
      expect(outcome.status.code).toBe(status.OK);
      return outcome.responses[0].toString();
    };
    const [a, b] = servers.map(({ host, port }) => `${host} backend.test:${port}`);
    // The first call goes to the first address; the second connects meanwhile, and takes calls
    // once it has (at most 20 calls).
    const first: string[] = [];
    while (first.length < 20 && first.at(-1) !== b) first.push(await answer());
    expect([first[0], first.at(-1), first.slice(0, -1).every((got) => got === a)]).toEqual([
      a,
      b,
      true,
    ]);
    const next = [await answer(), await answer(), await answer(), await answer()];
    expect(next).toEqual([a, b, a, b]);
    expect(looked).toEqual(['backend.test']);
  });

  it('sends no call to an address of the name that never answers while another one is ready', async () => {
    servers = await startAddressServers(['backend', 'silent']);
    const target = `dns:backend.test:${servers[0].port}`;
    await start(() => ({ backend: { name: 'named', target } }), {
      backendLookup: async () => servers.map(({ host }) => ({ address: host, family: 4 })),
    });
    const answers: string[] = [];
    for (let count = 0; count < 6; count++) {
      const outcome = await call();
      answers.push(`${outcome.status.code} ${outcome.responses[0]?.toString()}`);
    }
    expect(answers).toEqual(
      Array(6).fill(`${status.OK} 127.0.0.1 backend.test:${servers[0].port}`),
    );
    expect(servers.map((server) => server.connections)).toEqual([1, 1]); // one background attempt
  });

  it('ends a call to a backend that accepts TCP and never speaks with UNAVAILABLE naming the timeout', async () => {
    const silent = await startAddressServer('silent', '127.0.0.1');
    servers = [silent];
    const target = `127.0.0.1:${silent.port}`;
    const backend = { name: 'silent', target }; // one backend: at most two attempts on it
    await start(() => ({ backend }), { backendConnectAttemptTimeoutMs: 100 });
    const outcome = await call();
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.UNAVAILABLE,
      `grpc-proxy: backend silent unavailable: connecting to ${target} timed out after 100 ms`,
    ]);
    // The call and its transparent retry, each on a new connection.
    expect(silent.connections).toBe(2);
  });

  it('retries a call whose backend never speaks on the next backend the director gives', async () => {
    servers = [
      await startAddressServer('silent', '127.0.0.1'),
      await startAddressServer('backend', '127.0.0.1'),
    ];
    const [silent, good] = servers.map(({ port }) => `127.0.0.1:${port}`);
    const reports: CallReport[] = [];
    let turn = 0;
    await start(
      () => ({ backend: turn++ % 2 === 0 ? { name: 'silent', target: silent } : { target: good } }),
      {
        backendConnectAttemptTimeoutMs: 100,
        observer: { onCallEnd: (report) => reports.push(report) },
      },
    );
    const outcome = await call();
    expect([outcome.status.code, outcome.responses[0].toString()]).toEqual([
      status.OK,
      `127.0.0.1 ${good}`,
    ]);
    expect([turn, reports[0].retries, servers[0].connections]).toEqual([2, 1, 1]);
  });

  describe('with passive health', () => {
    const routed = useRoutedProxy();

    it('keeps a createBackend backend in rotation while one address of its name connects', async () => {
      servers = await startAddressServers(['sink', 'backend']);
      const other = await startAddressServer('backend', '127.0.0.1');
      servers.push(other);
      const named = `dns:backend.test:${servers[0].port}`;
      const run = await routed.start(
        { a: named, b: `127.0.0.1:${other.port}` },
        {
          backendLookup: async () => [
            { address: '127.0.0.1', family: 4 },
            { address: '127.0.0.2', family: 4 },
          ],
        },
      );
      const answers: string[] = [];
      for (let count = 0; count < 4; count++) {
        const outcome = await callRawUnary(run.client, METHOD, Buffer.from('x'));
        expect(outcome.status.code).toBe(status.OK);
        answers.push(outcome.responses[0].toString());
      }
      const [a, b] = [
        `127.0.0.2 backend.test:${servers[0].port}`,
        `127.0.0.1 127.0.0.1:${other.port}`,
      ];
      // The first call met the dropping address and was retried on b.
      expect(answers).toEqual([b, a, b, a]);
      expect(run.reports.map((report) => report.retries)).toEqual([1, 0, 0, 0]);
      expect([run.health, run.a.isAvailable()]).toEqual([[], true]);
    });
  });
});
