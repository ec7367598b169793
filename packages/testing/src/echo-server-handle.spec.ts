import { credentials, makeGenericClientConstructor, status as Status } from '@grpc/grpc-js';
import type { Client, ServiceDefinition, ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { callEcho, echoRequest, openBidi } from './client-calls';
import { createEchoClient } from './echo-client';
import { ECHO_SERVICE_NAME, startEchoServer } from './echo-server';
import type { EchoServerHandle, EchoServerOptions } from './echo-server';
import type { EchoServiceClient } from './gen/grpc_proxy/testing/v1/echo';

const HealthClient = makeGenericClientConstructor(
  healthService as unknown as ServiceDefinition,
  'Health',
);

interface HealthCheck {
  check(
    request: { service: string },
    callback: (error: ServiceError | null, response?: { status: string }) => void,
  ): void;
}

let servers: EchoServerHandle[] = [];
let clients: Client[] = [];

async function start(options: EchoServerOptions = {}): Promise<EchoServerHandle> {
  const server = await startEchoServer(options);
  servers.push(server);
  return server;
}

function echoClient(server: EchoServerHandle): EchoServiceClient {
  const client = createEchoClient(server.address);
  clients.push(client);
  return client;
}

afterEach(() => {
  clients.forEach((client) => client.close());
  servers.forEach((server) => server.forceClose());
  clients = [];
  servers = [];
});

describe('health', () => {
  function check(client: Client, service: string): Promise<string> {
    return new Promise((resolve, reject) =>
      (client as unknown as HealthCheck).check({ service }, (error, response) =>
        error ? reject(error) : resolve(response!.status),
      ),
    );
  }

  it('serves grpc.health.v1, SERVING by default, and follows setHealth', async () => {
    const server = await start();
    const client = new HealthClient(server.address, credentials.createInsecure());
    clients.push(client);

    expect(await check(client, '')).toBe('SERVING');
    expect(await check(client, ECHO_SERVICE_NAME)).toBe('SERVING');
    server.setHealth('', 'NOT_SERVING');
    server.setHealth('other.Service', 'SERVING');
    expect(await check(client, '')).toBe('NOT_SERVING');
    expect(await check(client, 'other.Service')).toBe('SERVING');
    await expect(check(client, 'unknown.Service')).rejects.toMatchObject({
      code: Status.NOT_FOUND,
    });
  });

  it('starts with the given statuses', async () => {
    const server = await start({ health: { '': 'NOT_SERVING' } });
    const client = new HealthClient(server.address, credentials.createInsecure());
    clients.push(client);

    expect(await check(client, '')).toBe('NOT_SERVING');
    await expect(check(client, ECHO_SERVICE_NAME)).rejects.toMatchObject({
      code: Status.NOT_FOUND,
    });
  });
});

describe('close and forceClose', () => {
  it('close() resolves when idle, and the address then refuses calls', async () => {
    const server = await start();
    const client = echoClient(server);
    expect((await callEcho(client, echoRequest())).status.code).toBe(Status.OK);

    await server.close();

    const after = await callEcho(client, echoRequest(), {
      options: { deadline: Date.now() + 5000 },
    });
    expect(after.status.code).toBe(Status.UNAVAILABLE);
  });

  it('close() waits for a running call to finish', async () => {
    const server = await start();
    const client = echoClient(server);
    const session = openBidi(client);
    session.call.write(echoRequest());
    await session.nextResponse();

    let closed = false;
    const closing = server.close().then(() => (closed = true));
    const record = await server.waitForCall((c) => c.responses.length === 1);
    expect(closed).toBe(false);
    expect(record.ended).toBe(false);

    session.call.end();
    expect((await session.outcome).status.code).toBe(Status.OK);
    await closing;
    expect(closed).toBe(true);
  });

  it('forceClose() cuts running calls', async () => {
    const server = await start();
    const client = echoClient(server);
    const pending = callEcho(client, echoRequest({ delayMs: 60_000 }));
    await server.waitForCall((c) => c.requests.length === 1);

    server.forceClose();

    const outcome = await pending;
    expect(outcome.status.code).not.toBe(Status.OK);
    const record = await server.waitForCall((c) => c.ended);
    expect(record.cancelled).toBe(true);
  });
});

describe('call log', () => {
  it('keeps at most maxCalls calls, forgetting the oldest finished ones', async () => {
    const server = await start({ callLog: { maxCalls: 2 } });
    const client = echoClient(server);
    for (const text of ['one', 'two', 'three']) {
      await callEcho(client, echoRequest({ payload: Buffer.from(text) }));
    }

    expect(server.calls.map((c) => c.requests[0].payload.toString())).toEqual(['two', 'three']);
  });

  it('can record messages without their payloads', async () => {
    const server = await start({ callLog: { keepPayloads: false } });
    const client = echoClient(server);
    const outcome = await callEcho(
      client,
      echoRequest({ payload: Buffer.from('abc'), responseSize: 3 }),
    );

    expect(outcome.responses[0].payload).toHaveLength(3);
    const record = await server.waitForCall((c) => c.ended);
    expect(record.requests[0].payload).toHaveLength(0);
    expect(record.requests[0].responseSize).toBe(3);
    expect(record.responses[0].payload).toHaveLength(0);
  });

  it('can be off, and then says so when awaited', async () => {
    const server = await start({ callLog: { maxCalls: 0 } });
    const client = echoClient(server);
    expect((await callEcho(client, echoRequest())).status.code).toBe(Status.OK);

    expect(server.calls).toHaveLength(0);
    await expect(server.waitForCall(() => true)).rejects.toThrow(
      'the call log is off (maxCalls: 0); cannot wait for a matching call',
    );
  });

  it('says what it waited for and what it saw when a wait times out', async () => {
    const server = await start();
    const client = echoClient(server);
    await callEcho(client, echoRequest());

    await expect(
      server.waitForCall(() => false, { timeoutMs: 50, description: 'a miracle' }),
    ).rejects.toThrow(
      'Timed out after 50 ms waiting for a miracle; calls seen: ' +
        '/grpc_proxy.testing.v1.EchoService/Echo (in 1, out 1, status 0, cancelled false, ended true)',
    );
  });

  it('waits for a cancelled call by method name', async () => {
    const server = await start();
    const client = echoClient(server);
    const unary = client.echo(echoRequest({ delayMs: 60_000 }), () => undefined);
    const session = openBidi(client);
    session.call.write(echoRequest());
    await session.nextResponse();
    await server.waitForCall((c) => c.method.endsWith('/Echo'));

    session.call.cancel();
    const bidi = await server.waitForCancelled('Bidi');
    expect(bidi.method).toBe('/grpc_proxy.testing.v1.EchoService/Bidi');
    expect(server.calls.find((c) => c.method.endsWith('/Echo'))?.cancelled).toBe(false);

    unary.cancel();
    const echo = await server.waitForCancelled('/grpc_proxy.testing.v1.EchoService/Echo');
    expect(echo.requests).toHaveLength(1);
  });
});
