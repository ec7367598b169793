/**
 * Fan-out through the `grpc-proxy` command (issue 14), on each engine: a route with
 * `fanOut: { backends, responses, onError }` sends each call to one target of every backend at
 * once. Three named echo backends and one that refuses every call with an exact status:
 * a server-streaming call gets every message of the three (exact count, per backend), a unary
 * `merge` call gets one message whose repeated field holds every backend's items, `first-error`
 * ends the call with the refusing backend's exact status and trailer (the others cancelled at
 * their backend), `skip` leaves it out, and `grpc_proxy_fanout_backend_calls_total` counts each
 * leg by backend and code, as the debug call log line lists them.
 */
import { Metadata, status } from '@grpc/grpc-js';
import {
  callEcho,
  callServerStream,
  echoRequest,
  startEchoServer,
  type EchoServerHandle,
} from '@grpc-proxy/testing';
import { waitUntil, type ProxyProcess } from '../src';
import { adminOf, scrapeAtLeast, startRefusingBackend } from './support/fan-out-backends';
import { ENGINES, useHarness } from './support/use-harness';

const SERVICE = 'grpc_proxy.testing.v1.EchoService';
const STREAMED = 50; // messages each backend sends on a server-streaming call
const REFUSAL = 'refuse: this shard is read-only';

describe.each(ENGINES)('fan-out through the command (%s engine)', (engine) => {
  const h = useHarness({ engine });
  let shards: EchoServerHandle[] = [];
  let proxy: ProxyProcess;
  let admin: string;

  beforeEach(async () => {
    shards = await Promise.all(
      ['shard-a', 'shard-b', 'shard-c'].map(async (name) =>
        h.own(await startEchoServer({ name }), (shard) => shard.close()),
      ),
    );
    const refusing = h.own(
      await startRefusingBackend('refuse', status.PERMISSION_DENIED, REFUSAL),
      (backend) => backend.close(),
    );
    const policy = (value: string) => ({ 'x-policy': value });
    const streamMethod = `/${SERVICE}/ServerStream`;
    proxy = await h.proxy({
      config: {
        admin: { listen: '127.0.0.1:0' },
        log: { level: 'debug' },
        backends: [
          ...shards.map((shard) => ({ name: shard.name, targets: [shard.address] })),
          { name: 'refuse', targets: [refusing.address] },
        ],
        routes: [
          {
            method: streamMethod,
            metadata: policy('first-error'),
            fanOut: { backends: ['shard-a', 'refuse', 'shard-b'], responses: 'stream' },
          },
          {
            method: streamMethod,
            metadata: policy('skip'),
            fanOut: {
              name: 'skipping',
              backends: ['shard-a', 'refuse', 'shard-b'],
              responses: 'stream',
              onError: 'skip',
            },
          },
          {
            method: streamMethod,
            fanOut: { backends: ['shard-a', 'shard-b', 'shard-c'], responses: 'stream' },
          },
          {
            method: `/${SERVICE}/Echo`,
            fanOut: {
              name: 'merged',
              backends: ['shard-a', 'shard-b', 'shard-c'],
              responses: 'merge',
            },
          },
        ],
        defaultBackend: 'shard-a',
      },
    });
    admin = adminOf(proxy);
  });

  /** Legs counted by `grpc_proxy_fanout_backend_calls_total`, once `expected` of them are. */
  function legs(where: Record<string, string>, expected: number): Promise<number> {
    return scrapeAtLeast(admin, 'grpc_proxy_fanout_backend_calls_total', where, expected);
  }

  /** The debug call log lines of fan-out calls, parsed. */
  function fanOutLines(): { backend: string; code: string; fanOut: string[] }[] {
    return proxy.process.lines
      .filter((line) => line.includes('"fanOut"'))
      .map((line) => JSON.parse(line) as { backend: string; code: string; fanOut: string[] });
  }

  it('a server-streaming call gets every message of three backends', async () => {
    const client = h.echoClient(proxy.address);
    const outcome = await callServerStream(client, echoRequest({ responseCount: STREAMED }));
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses).toHaveLength(3 * STREAMED);
    for (const shard of shards) {
      const mine = outcome.responses.filter((response) => response.serverName === shard.name);
      // Each backend's messages arrive whole and in its own order, interleaved with the others'.
      expect(mine.map((response) => response.index)).toEqual(
        Array.from({ length: STREAMED }, (_, i) => i),
      );
    }
    const fanOut = 'fan-out(shard-a,shard-b,shard-c)';
    for (const shard of shards) {
      const where = { fan_out: fanOut, backend: shard.name, grpc_code: 'OK' };
      expect(await legs(where, 1)).toBe(1);
    }
    await waitUntil(() => fanOutLines().length === 1, 5000, 'the call log line');
    expect(fanOutLines()[0]).toMatchObject({
      backend: fanOut,
      code: 'OK',
      fanOut: shards.map((shard) => `${shard.name}/${shard.address} OK ${STREAMED}`),
    });
  });

  it('a unary merge call gets one message whose repeated field has every backend items', async () => {
    const client = h.echoClient(proxy.address);
    const metadata = new Metadata();
    metadata.set('x-probe', 'merge-me');
    const outcome = await callEcho(client, echoRequest({ echoMetadata: true }), { metadata });
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses).toHaveLength(1);
    const [merged] = outcome.responses;
    const probes = merged.requestMetadata.filter((entry) => entry.key === 'x-probe');
    expect(probes.map((entry) => entry.value)).toEqual(['merge-me', 'merge-me', 'merge-me']);
    // A scalar field keeps the last backend's value: the concatenation is a protobuf merge.
    expect(merged.serverName).toBe('shard-c');
    expect(await legs({ fan_out: 'merged', grpc_code: 'OK' }, 3)).toBe(3);
  });

  it("first-error: the refusing backend's exact status, the others cancelled at their backend", async () => {
    const client = h.echoClient(proxy.address);
    const metadata = new Metadata();
    metadata.set('x-policy', 'first-error');
    // The shards never end this call themselves: only the fan-out can end their legs.
    const request = echoRequest({ responseCount: 1, holdUntilCancelled: true });
    const outcome = await callServerStream(client, request, { metadata });
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.PERMISSION_DENIED,
      REFUSAL,
    ]);
    expect(outcome.status.metadata.get('x-refused-by')).toEqual(['refuse']);
    await Promise.all(shards.slice(0, 2).map((shard) => shard.waitForCancelled('ServerStream')));
    const fanOut = 'fan-out(shard-a,refuse,shard-b)';
    expect(
      await legs({ fan_out: fanOut, backend: 'refuse', grpc_code: 'PERMISSION_DENIED' }, 1),
    ).toBe(1);
    expect(await legs({ fan_out: fanOut, grpc_code: 'CANCELLED' }, 2)).toBe(2);
    expect(await legs({ fan_out: fanOut }, 3)).toBe(3);
  });

  it('skip: the refusing backend is left out, the call is OK with the others messages', async () => {
    const client = h.echoClient(proxy.address);
    const metadata = new Metadata();
    metadata.set('x-policy', 'skip');
    const outcome = await callServerStream(client, echoRequest({ responseCount: STREAMED }), {
      metadata,
    });
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses).toHaveLength(2 * STREAMED);
    const names = new Set(outcome.responses.map((response) => response.serverName));
    expect([...names].sort()).toEqual(['shard-a', 'shard-b']);
    const where = (backend: string, code: string) => ({
      fan_out: 'skipping',
      backend,
      grpc_code: code,
    });
    expect(await legs(where('refuse', 'PERMISSION_DENIED'), 1)).toBe(1);
    expect(await legs(where('shard-a', 'OK'), 1)).toBe(1);
    expect(await legs(where('shard-b', 'OK'), 1)).toBe(1);
  });
});
