import { Client, ServerCredentials, credentials, status } from '@grpc/grpc-js';
import {
  EchoRequest,
  callRawUnary,
  createTestPki,
  echoRequest,
  startEchoServer,
  type EchoServerHandle,
} from '@grpc-proxy/testing';
import { createBackend } from './index';
import type { OwnedBackend } from './index';
import { statusError } from './test-support/calls';
import type { RawServer } from './test-support/raw-server';
import { callBlob, callWho, startRawServer } from './test-support/raw-server';

const ECHO = '/grpc_proxy.testing.v1.EchoService/Echo';

describe('createBackend', () => {
  const servers: RawServer[] = [];
  const backends: OwnedBackend[] = [];
  const start = async (name: string) => {
    const server = await startRawServer(name);
    servers.push(server);
    return server;
  };
  const backend = (...args: Parameters<typeof createBackend>) => {
    const created = createBackend(...args);
    backends.push(created);
    return created;
  };

  afterEach(async () => {
    for (const created of backends.splice(0)) created.close();
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });

  it('is named after its target unless given a name', () => {
    expect(backend('127.0.0.1:1').name).toBe('127.0.0.1:1');
    expect(backend('127.0.0.1:1', { name: 'billing' }).name).toBe('billing');
    expect(backend('unix:/tmp/none.sock').target).toBe('unix:/tmp/none.sock');
  });

  it('refuses an empty target', () => {
    expect(() => createBackend('')).toThrow(
      new TypeError('createBackend: target must be a non-empty string'),
    );
  });

  it('creates one client lazily and shares it', async () => {
    const server = await start('one');
    const created = backend(server.address);
    const client = created.client();
    expect(client).toBeInstanceOf(Client);
    expect(created.client()).toBe(client);
    expect(client.getChannel().getTarget()).toBe(`dns:${server.address}`);
    expect(await callWho(client)).toBe('one');
  });

  it('receives messages up to 64 MiB (not the grpc-js 4 MiB default)', async () => {
    const server = await start('big');
    const outcome = await callBlob(backend(server.address).client(), 5 * 1024 * 1024);
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses.map((response) => response.length)).toEqual([5 * 1024 * 1024]);
  });

  it('applies channelOptions over the defaults', async () => {
    const server = await start('small');
    const limited = backend(server.address, {
      channelOptions: { 'grpc.max_receive_message_length': 1024 },
    });
    const tooLarge = await callBlob(limited.client(), 2048);
    expect(tooLarge.status).toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
      details: 'Received message larger than max (2048 vs 1024)',
    });
    expect(tooLarge.responses).toEqual([]);
    const fits = await callBlob(limited.client(), 1024);
    expect(fits.status.code).toBe(status.OK);
    expect(fits.responses.map((response) => response.length)).toEqual([1024]);
  });

  it('closes idempotently and refuses a client afterwards', async () => {
    const server = await start('closing');
    const created = backend(server.address, { name: 'closing' });
    expect(await callWho(created.client())).toBe('closing');
    created.close();
    created.close();
    expect(created.closed).toBe(true);
    expect(() => created.client()).toThrow(
      statusError(status.UNAVAILABLE, 'backend closing is closed'),
    );
  });

  it('balances over several addresses with grpc-js round_robin as one backend', async () => {
    const [left, right] = [await start('left'), await start('right')];
    const port = (address: string) => address.split(':')[1];
    const pooled = backend(
      `ipv4:127.0.0.1:${port(left.address)},127.0.0.1:${port(right.address)}`,
      {
        name: 'pool',
        channelOptions: {
          'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
        },
      },
    );
    const seen = new Set<string>();
    // round_robin connects to both addresses and alternates once both are ready; bounded.
    for (let call = 0; call < 200 && seen.size < 2; call++)
      seen.add(await callWho(pooled.client()));
    expect([...seen].sort()).toEqual(['left', 'right']);
  });

  it('speaks TLS to its target from PEM options, and keeps them for other engines', async () => {
    const pki = createTestPki();
    let server: EchoServerHandle | undefined;
    try {
      const ca = pki.ca('ca');
      const leaf = pki.leaf('backend', ca, 'serverAuth');
      server = await startEchoServer({
        credentials: ServerCredentials.createSsl(
          null,
          [{ cert_chain: leaf.cert, private_key: leaf.key }],
          false,
        ),
      });
      const tls = { ca: ca.cert, serverName: 'localhost' };
      const secured = backend(server.address, { tls });
      expect(secured.tls).toBe(tls);
      const request = Buffer.from(EchoRequest.encode(echoRequest()).finish());
      const outcome = await callRawUnary(secured.client(), ECHO, request);
      expect(outcome.status.code).toBe(status.OK);
      const plain = backend(server.address);
      expect((await callRawUnary(plain.client(), ECHO, request)).status.code).toBe(
        status.UNAVAILABLE,
      );
    } finally {
      server?.forceClose();
      pki.remove();
    }
  });

  it('refuses tls and credentials together', () => {
    expect(() =>
      createBackend('127.0.0.1:1', { tls: {}, credentials: credentials.createInsecure() }),
    ).toThrow('createBackend: give tls or credentials, not both');
  });
});
