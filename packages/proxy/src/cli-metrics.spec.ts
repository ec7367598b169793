import { status } from '@grpc/grpc-js';
import {
  EchoRequest,
  callBidi,
  callClientStream,
  callEcho,
  callServerStream,
  createEchoClient,
  echoRequest,
  startEchoServer,
  type EchoServerHandle,
  type EchoServiceClient,
} from '@grpc-proxy/testing';
import { killAll, startListeningCli } from './test-support/cli-process';
import { parsePrometheus, sumOf } from './test-support/prometheus';

const SERVICE = '/grpc_proxy.testing.v1.EchoService';
const requestBytes = (request: EchoRequest) => EchoRequest.encode(request).finish().length;

describe('grpc-proxy command: admin listener and metrics (child process)', () => {
  let backends: EchoServerHandle[] = [];
  let client: EchoServiceClient | undefined;

  afterEach(async () => {
    client?.close();
    client = undefined;
    await killAll();
    await Promise.all(backends.map((backend) => backend.close()));
    backends = [];
  });

  it('counts the calls made, by method, backend and code, with bytes, messages and durations', async () => {
    backends = await Promise.all(['a', 'b'].map((name) => startEchoServer({ name })));
    const { addresses, admin } = await startListeningCli([
      '--listen',
      '127.0.0.1:0',
      '--backend',
      backends[0].address,
      '--backend',
      backends[1].address,
      '--admin',
      '127.0.0.1:0',
    ]);
    client = createEchoClient(addresses[0]);

    const unary = echoRequest({ payload: Buffer.from('0123456789') });
    const served: string[] = [];
    for (let i = 0; i < 4; i++) {
      const outcome = await callEcho(client, unary);
      expect(outcome.status.code).toBe(status.OK);
      served.push(outcome.responses[0].serverName);
    }
    const notFound = await callEcho(
      client,
      echoRequest({ statusCode: status.NOT_FOUND, statusMessage: 'nope' }),
    );
    expect([notFound.status.code, notFound.status.details]).toEqual([status.NOT_FOUND, 'nope']);
    for (let i = 0; i < 2; i++) {
      const stream = await callServerStream(client, echoRequest({ responseCount: 3 }));
      expect([stream.status.code, stream.responses.length]).toEqual([status.OK, 3]);
    }
    const fromClient = [
      echoRequest({ payload: Buffer.from('x') }),
      echoRequest({ payload: Buffer.from('yy') }),
    ];
    expect((await callClientStream(client, fromClient)).status.code).toBe(status.OK);
    const bidi = await callBidi(client, fromClient);
    expect([bidi.status.code, bidi.responses.length]).toEqual([status.OK, 2]);
    // Strict rotation over two targets: the 9 calls went a, b, a, b...
    expect(served).toEqual(['a', 'b', 'a', 'b']);

    const response = await fetch(`http://${admin}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const samples = parsePrometheus(await response.text());
    const calls = (where: Record<string, string>) =>
      sumOf(samples, 'grpc_proxy_calls_total', where);
    const [a, b] = backends.map((backend) => `default/${backend.address}`);

    expect(calls({})).toBe(9);
    expect(calls({ backend: a })).toBe(5);
    expect(calls({ backend: b })).toBe(4);
    expect(calls({ method: `${SERVICE}/Echo`, code: 'OK' })).toBe(4);
    expect(calls({ method: `${SERVICE}/Echo`, code: 'NOT_FOUND' })).toBe(1);
    expect(calls({ method: `${SERVICE}/ServerStream`, code: 'OK' })).toBe(2);
    expect(calls({ method: `${SERVICE}/ClientStream`, code: 'OK' })).toBe(1);
    expect(calls({ method: `${SERVICE}/Bidi`, code: 'OK' })).toBe(1);
    expect(sumOf(samples, 'grpc_proxy_call_duration_seconds_count')).toBe(9);
    expect(
      sumOf(samples, 'grpc_proxy_call_duration_seconds_count', {
        method: `${SERVICE}/Echo`,
        code: 'OK',
      }),
    ).toBe(4);
    expect(sumOf(samples, 'grpc_proxy_calls_in_flight')).toBe(0);
    expect(
      sumOf(samples, 'grpc_proxy_messages_total', {
        method: `${SERVICE}/ServerStream`,
        direction: 'to_client',
      }),
    ).toBe(6);
    expect(
      sumOf(samples, 'grpc_proxy_messages_total', {
        method: `${SERVICE}/ClientStream`,
        direction: 'from_client',
      }),
    ).toBe(2);
    expect(
      sumOf(samples, 'grpc_proxy_bytes_total', {
        method: `${SERVICE}/Echo`,
        direction: 'from_client',
      }),
    ).toBe(
      4 * requestBytes(unary) +
        requestBytes(echoRequest({ statusCode: status.NOT_FOUND, statusMessage: 'nope' })),
    );
    expect(
      sumOf(samples, 'grpc_proxy_bytes_total', {
        method: `${SERVICE}/ClientStream`,
        direction: 'from_client',
      }),
    ).toBe(fromClient.map(requestBytes).reduce((x, y) => x + y));
    expect(sumOf(samples, 'grpc_proxy_proxy_errors_total')).toBe(0);
    // Process metrics come with the same prefix.
    expect(
      samples.some((sample) => sample.name === 'grpc_proxy_process_resident_memory_bytes'),
    ).toBe(true);
  });

  it('answers /healthz and /readyz, reports backend health, and counts failed calls', async () => {
    backends = [await startEchoServer({ name: 'only' })];
    const { addresses, admin } = await startListeningCli([
      '--listen',
      '127.0.0.1:0',
      '--backend',
      backends[0].address,
      '--health-check',
      '--admin',
      '127.0.0.1:0',
    ]);
    expect(await (await fetch(`http://${admin}/healthz`)).text()).toBe('ok\n');
    const ready = await fetch(`http://${admin}/readyz`);
    expect([ready.status, await ready.text()]).toEqual([200, 'ready\n']);
    let samples = parsePrometheus(await (await fetch(`http://${admin}/metrics`)).text());
    expect(
      sumOf(samples, 'grpc_proxy_backend_healthy', {
        backend: 'default',
        target: backends[0].address,
      }),
    ).toBe(1);

    // The proxy's health Watch stream is a call that never ends: stop the backend at once.
    backends[0].forceClose();
    client = createEchoClient(addresses[0]);
    const failed = await callEcho(client, echoRequest());
    expect(failed.status.code).toBe(status.UNAVAILABLE);
    samples = parsePrometheus(await (await fetch(`http://${admin}/metrics`)).text());
    expect(sumOf(samples, 'grpc_proxy_calls_total', { code: 'UNAVAILABLE' })).toBe(1);
    backends = [];
  });
});
