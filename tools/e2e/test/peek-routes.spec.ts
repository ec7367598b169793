/**
 * Peek routes through the `grpc-proxy` command (issue 14: "route on what the request says"), on
 * each engine: `routes[].message` sends unary, client-streaming and bidi calls to one of two
 * backends by field 1 (`payload`) of their first request message, no schema given to the proxy.
 * Exact counts per backend (`EchoResponse.serverName`, and each backend's started calls): a
 * first message without the field, with another value, or no message at all (the client
 * half-closes at once) goes to the default backend.
 */
import { status } from '@grpc/grpc-js';
import {
  callBidi,
  callClientStream,
  callEcho,
  echoRequest,
  startEchoServer,
  type EchoServerHandle,
  type EchoServiceClient,
} from '@grpc-proxy/testing';
import { ENGINES, useHarness } from './support/use-harness';

const SERVICE = 'grpc_proxy.testing.v1.EchoService';
const CALLS = 20; // of each kind, half for each tenant
const tenant = (name: string) => echoRequest({ payload: Buffer.from(name) });

describe.each(ENGINES)('routes on the first request message (%s engine)', (engine) => {
  const h = useHarness({ engine });
  let backends: EchoServerHandle[] = [];
  let echo: EchoServiceClient;

  beforeEach(async () => {
    backends = await Promise.all(
      ['main', 'blue', 'green'].map(async (name) =>
        h.own(await startEchoServer({ name }), (backend) => backend.close()),
      ),
    );
    const proxy = await h.proxy({
      config: {
        backends: backends.map((backend) => ({ name: backend.name, targets: [backend.address] })),
        routes: [
          { service: SERVICE, message: { '1': ['tenant-blue', 'tenant-sky'] }, backend: 'blue' },
          { service: SERVICE, message: { '1': 'tenant-green' }, backend: 'green' },
        ],
        defaultBackend: 'main',
      },
    });
    echo = h.echoClient(proxy.address);
  });

  /** Calls each backend started: main, blue, green. */
  async function started(): Promise<number[]> {
    const counts = await Promise.all(backends.map((backend) => backend.callCounts()));
    return counts.map((count) => count.started);
  }

  /** How many answers came from each backend: main, blue, green. */
  function byBackend(servers: readonly string[]): number[] {
    return ['main', 'blue', 'green'].map((name) => servers.filter((s) => s === name).length);
  }

  const names = (index: number) => (index % 2 === 0 ? 'tenant-blue' : 'tenant-green');

  it('routes unary calls by a field of the request', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: CALLS }, (_, i) => callEcho(echo, tenant(names(i)))),
    );
    expect(outcomes.filter((o) => o.status.code === status.OK)).toHaveLength(CALLS);
    expect(byBackend(outcomes.map((o) => o.responses[0].serverName))).toEqual([0, 10, 10]);
    expect(await started()).toEqual([0, 10, 10]);
  });

  it('routes client-streaming and bidi calls by their first message', async () => {
    const streams = await Promise.all(
      Array.from({ length: CALLS }, (_, i) =>
        callClientStream(echo, [tenant(names(i)), tenant('tenant-blue'), tenant('x')]),
      ),
    );
    expect(streams.map((o) => [o.status.code, o.responses[0].requestCount])).toEqual(
      Array.from({ length: CALLS }, () => [status.OK, 3]),
    );
    expect(byBackend(streams.map((o) => o.responses[0].serverName))).toEqual([0, 10, 10]);

    const bidis = await Promise.all(
      Array.from({ length: CALLS }, (_, i) =>
        callBidi(echo, [tenant(names(i + 1)), tenant('tenant-green'), tenant('tenant-sky')]),
      ),
    );
    expect(bidis.filter((o) => o.status.code === status.OK)).toHaveLength(CALLS);
    const servers = bidis.flatMap((o) => o.responses.map((r) => r.serverName));
    // Every message of a call goes where its first message sent it.
    expect(byBackend(servers)).toEqual([0, 30, 30]);
    expect(await started()).toEqual([0, 20, 20]);
  });

  it('sends a first message without the field, another value or no message to the default', async () => {
    const unary = await callEcho(echo, echoRequest({ responseCount: 1 }));
    const other = await callEcho(echo, tenant('tenant-red'));
    const none = await callClientStream(echo, []);
    const bidi = await callBidi(echo, []);
    const answers = [unary, other, none].map((o) => [o.status.code, o.responses[0].serverName]);
    expect(answers).toEqual([
      [status.OK, 'main'],
      [status.OK, 'main'],
      [status.OK, 'main'],
    ]);
    expect([none.responses[0].requestCount, bidi.status.code, bidi.responses]).toEqual([
      0,
      status.OK,
      [],
    ]);
    expect(await started()).toEqual([4, 0, 0]);
  });
});
