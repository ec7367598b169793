import { status } from '@grpc/grpc-js';
import {
  EchoRequest,
  callBidi,
  callClientStream,
  callEcho,
  callServerStream,
  echoRequest,
  startEchoServer,
  type EchoServerHandle,
} from '@grpc-proxy/testing';
import { startListening, stopCommands } from './test-support/command-run';
import { echoClients } from './test-support/echo-clients';
import { parsePrometheus, sumOf } from './test-support/prometheus';

const SERVICE = 'grpc_proxy.testing.v1.EchoService';
/** The labels of a method of the echo service (grpc-prometheus style). */
const echoMethod = (method: string) => ({ grpc_service: SERVICE, grpc_method: method });
const requestBytes = (request: EchoRequest) => EchoRequest.encode(request).finish().length;

describe('grpc-proxy command: admin listener and metrics (in-process)', () => {
  let backends: EchoServerHandle[] = [];
  const clients = echoClients();

  afterEach(async () => {
    clients.closeAll();
    await stopCommands();
    await Promise.all(backends.map((backend) => backend.close()));
    backends = [];
  });

  it('counts the calls made, by method, backend and code, with bytes, messages and durations', async () => {
    backends = await Promise.all(['a', 'b'].map((name) => startEchoServer({ name })));
    const { addresses, admin } = await startListening([
      '--listen',
      '127.0.0.1:0',
      '--backend',
      backends[0].address,
      '--backend',
      backends[1].address,
      '--admin',
      '127.0.0.1:0',
    ]);
    const client = clients.connect(addresses[0]);

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
    const [a, b] = backends.map((backend) => backend.address);

    expect(calls({})).toBe(9);
    expect(calls({ backend: 'default', target: a })).toBe(5);
    expect(calls({ backend: 'default', target: b })).toBe(4);
    expect(calls({ ...echoMethod('Echo'), grpc_code: 'OK' })).toBe(4);
    expect(calls({ ...echoMethod('Echo'), grpc_code: 'NOT_FOUND' })).toBe(1);
    expect(calls({ ...echoMethod('ServerStream'), grpc_code: 'OK' })).toBe(2);
    expect(calls({ ...echoMethod('ClientStream'), grpc_code: 'OK' })).toBe(1);
    expect(calls({ ...echoMethod('Bidi'), grpc_code: 'OK' })).toBe(1);
    expect(sumOf(samples, 'grpc_proxy_call_duration_seconds_count')).toBe(9);
    expect(
      sumOf(samples, 'grpc_proxy_call_duration_seconds_count', {
        ...echoMethod('Echo'),
        grpc_code: 'OK',
      }),
    ).toBe(4);
    expect(sumOf(samples, 'grpc_proxy_calls_in_flight')).toBe(0);
    const fromMethod = (metric: string, method: string, direction: string) =>
      sumOf(samples, metric, { ...echoMethod(method), direction });
    expect(fromMethod('grpc_proxy_messages_total', 'ServerStream', 'to_client')).toBe(6);
    expect(fromMethod('grpc_proxy_messages_total', 'ClientStream', 'from_client')).toBe(2);
    expect(fromMethod('grpc_proxy_bytes_total', 'Echo', 'from_client')).toBe(
      4 * requestBytes(unary) +
        requestBytes(echoRequest({ statusCode: status.NOT_FOUND, statusMessage: 'nope' })),
    );
    expect(fromMethod('grpc_proxy_bytes_total', 'ClientStream', 'from_client')).toBe(
      fromClient.map(requestBytes).reduce((x, y) => x + y),
    );
    expect(sumOf(samples, 'grpc_proxy_calls_failed_in_proxy_total')).toBe(0);
    // Process metrics come with the same prefix.
    expect(
      samples.some((sample) => sample.name === 'grpc_proxy_process_resident_memory_bytes'),
    ).toBe(true);
  });

  it('answers /healthz and /readyz, reports backend health, and counts failed calls', async () => {
    backends = [await startEchoServer({ name: 'only' })];
    const { addresses, admin } = await startListening([
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
    const failed = await callEcho(clients.connect(addresses[0]), echoRequest());
    expect(failed.status.code).toBe(status.UNAVAILABLE);
    samples = parsePrometheus(await (await fetch(`http://${admin}/metrics`)).text());
    expect(sumOf(samples, 'grpc_proxy_calls_total', { grpc_code: 'UNAVAILABLE' })).toBe(1);
    backends = [];
  });
});
