/**
 * `routes[].message` (peek) through `startProxy` on both engines: unary, client-streaming and
 * bidi calls routed by field 1 (`payload`) of their first request message, a first message
 * without the field and a half-close without a message going to the default backend, and a
 * call that ends before its first message ending with its own status, no backend called.
 */
import { status } from '@grpc/grpc-js';
import {
  callBidi,
  callClientStream,
  callEcho,
  echoRequest,
  openBidi,
  startEchoServer,
  type EchoServerHandle,
  type EchoServiceClient,
} from '@grpc-proxy/testing';
import { parseConfig } from './config/load';
import { createLogger } from './logging';
import { startProxy, type ProxyHandle } from './proxy';
import { echoClients } from './test-support/echo-clients';

const SERVICE = 'grpc_proxy.testing.v1.EchoService';
const tenant = (name: string) => echoRequest({ payload: Buffer.from(name) });

describe.each(['http2', 'grpc-js'] as const)('message routes (%s engine)', (engine) => {
  let backends: EchoServerHandle[] = [];
  let proxy: ProxyHandle | undefined;
  const clients = echoClients();

  afterEach(async () => {
    clients.closeAll();
    await proxy?.close(0);
    await Promise.all(backends.map((backend) => backend.close()));
    backends = [];
    proxy = undefined;
  });

  async function start(): Promise<EchoServiceClient> {
    backends = await Promise.all(['a', 'b', 'c'].map((name) => startEchoServer({ name })));
    const [a, b, c] = backends.map((backend) => backend.address);
    // The third rule never matches: proto3 leaves out a field at its default (0), so field 2
    // is absent rather than "0".
    const config = `engine: ${engine}
listen: 127.0.0.1:0
backends:
  - { name: a, targets: ["${a}"] }
  - { name: b, targets: ["${b}"] }
  - { name: c, targets: ["${c}"] }
routes:
  - { service: ${SERVICE}, message: { "1": [tenant-b, tenant-bb] }, backend: b }
  - { method: /${SERVICE}/Bidi, message: { "1": tenant-c }, backend: c }
  - { service: ${SERVICE}, message: { "1": tenant-c, "2": 0 }, backend: b }
  - { service: ${SERVICE}, message: { "1": tenant-c }, backend: c }
defaultBackend: a
log: { level: silent }
`;
    proxy = await startProxy(parseConfig(config, 'test', __dirname), {
      logger: createLogger({ level: 'silent' }),
    });
    return clients.connect(proxy.address);
  }

  /** Calls each backend started, in a, b, c order. */
  async function started(): Promise<number[]> {
    const counts = await Promise.all(backends.map((backend) => backend.callCounts()));
    return counts.map((count) => count.started);
  }

  it('routes unary calls on a field of the request, the rest to the default backend', async () => {
    const echo = await start();
    const served = async (request: ReturnType<typeof echoRequest>) => {
      const outcome = await callEcho(echo, request);
      expect(outcome.status.code).toBe(status.OK);
      return outcome.responses.map((response) => response.serverName);
    };
    expect(await served(tenant('tenant-b'))).toEqual(['b']);
    expect(await served(tenant('tenant-bb'))).toEqual(['b']);
    expect(await served(tenant('tenant-c'))).toEqual(['c']);
    expect(await served(tenant('tenant-x'))).toEqual(['a']);
    expect(await served(echoRequest({ responseCount: 2 }))).toEqual(['a']);
    expect(await started()).toEqual([2, 2, 1]);
  });

  it('routes client-streaming and bidi calls by their first message only', async () => {
    const echo = await start();
    const streamed = await callClientStream(echo, [tenant('tenant-c'), tenant('tenant-b')]);
    expect(streamed.status.code).toBe(status.OK);
    expect(
      streamed.responses.map((r) => [r.serverName, r.payload.toString(), r.requestCount]),
    ).toEqual([['c', 'tenant-ctenant-b', 2]]);
    const bidi = await callBidi(echo, [tenant('tenant-b'), tenant('tenant-c'), tenant('x')]);
    expect(bidi.status.code).toBe(status.OK);
    expect(bidi.responses.map((r) => [r.serverName, r.payload.toString()])).toEqual([
      ['b', 'tenant-b'],
      ['b', 'tenant-c'],
      ['b', 'x'],
    ]);
    const other = await callBidi(echo, [echoRequest(), tenant('tenant-b')]);
    expect(other.responses.map((r) => r.serverName)).toEqual(['a', 'a']);
    expect(await started()).toEqual([1, 1, 1]);
  });

  it('sends a call that half-closes without a message to the default backend', async () => {
    const echo = await start();
    const streamed = await callClientStream(echo, []);
    expect(streamed.status.code).toBe(status.OK);
    expect(streamed.responses.map((r) => [r.serverName, r.requestCount])).toEqual([['a', 0]]);
    const bidi = await callBidi(echo, []);
    expect([bidi.status.code, bidi.responses.length]).toEqual([status.OK, 0]);
    expect(await started()).toEqual([2, 0, 0]);
  });

  it('ends a call whose deadline passes before its first message with DEADLINE_EXCEEDED', async () => {
    const echo = await start();
    const session = openBidi(echo, { options: { deadline: Date.now() + 300 } });
    const outcome = await session.outcome;
    expect(outcome.status.code).toBe(status.DEADLINE_EXCEEDED);
    expect(await started()).toEqual([0, 0, 0]);
  });
});
