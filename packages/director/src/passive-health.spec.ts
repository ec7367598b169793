import { performance } from 'node:perf_hooks';
import {
  EchoRequest,
  EchoResponse,
  callRawUnary,
  echoRequest,
  startEchoServer,
} from '@grpc-proxy/testing';
import type { EchoServerHandle } from '@grpc-proxy/testing';
import { connectionError } from './channel-health';
import type { OwnedBackend } from './index';
import { createBackend } from './index';
import { unusedAddress } from './test-support/addresses';
import { killEchoServer } from './test-support/echo-backends';
import { HealthLog } from './test-support/health-log';

const ECHO = '/grpc_proxy.testing.v1.EchoService/Echo';

/** The message grpc-js's refused connection becomes. */
const refused = (address: string) =>
  `connection to ${address} failed: connect ECONNREFUSED ${address}`;

describe('createBackend passive health', () => {
  const backends: OwnedBackend[] = [];
  const servers: EchoServerHandle[] = [];

  function watched(target: string, name = target) {
    const log = new HealthLog();
    const backend = createBackend(target, { name, onHealthChange: log.listener });
    backends.push(backend);
    return { backend, log };
  }
  async function echoServer(name: string, port?: number) {
    const server = await startEchoServer({ name, port });
    servers.push(server);
    return server;
  }
  /** An echo call on the backend's own client: resolves to the serving name, or the status. */
  async function echoOn(backend: OwnedBackend): Promise<string> {
    const request = Buffer.from(EchoRequest.encode(echoRequest()).finish());
    const { status, responses } = await callRawUnary(backend.client(), ECHO, request);
    return responses[0] ? EchoResponse.decode(responses[0]).serverName : `${status.code}`;
  }

  afterEach(async () => {
    for (const backend of backends.splice(0)) backend.close();
    await Promise.all(servers.splice(0).map(killEchoServer));
  });

  it('is available until told of a failed connection, and back once told of one that connected', () => {
    const { backend, log } = watched('127.0.0.1:1', 'h2');
    expect([backend.isAvailable(), backend.connectionError]).toEqual([true, undefined]);

    const first = new Error('connect ECONNREFUSED 127.0.0.1:1');
    backend.reportConnection(first);
    expect(backend.isAvailable()).toBe(false);
    expect(backend.connectionError).toBe(first);
    const second = new Error('connect ETIMEDOUT 127.0.0.1:1');
    backend.reportConnection(second);
    expect(backend.connectionError).toBe(second);

    backend.reportConnection(undefined);
    backend.reportConnection(undefined);
    expect([backend.isAvailable(), backend.connectionError]).toEqual([true, undefined]);
    // One call per transition, with the error known then.
    expect(log.changes.map(({ available, message }) => [available, message])).toEqual([
      [false, 'connect ECONNREFUSED 127.0.0.1:1'],
      [true, undefined],
    ]);
    expect(log.errors[0]).toBe(first);
  });

  it('is unavailable once closed, ignores reports then, and close is no transition', () => {
    const { backend, log } = watched('127.0.0.1:1');
    backend.reportConnection(new Error('refused'));
    backend.close();
    backend.reportConnection(undefined);
    expect(backend.isAvailable()).toBe(false);
    expect(log.changes.map((change) => change.available)).toEqual([false]);
  });

  it('learns from its own channel that its target refuses connections, with the reason', async () => {
    const address = await unusedAddress();
    const { backend, log } = watched(address, 'dead');
    expect(await echoOn(backend)).toBe('14');
    const down = await log.change(1);
    expect(down).toMatchObject({ available: false, message: refused(address) });
    expect(backend.isAvailable()).toBe(false);
    expect(backend.connectionError).toBe(log.errors[0]);
  });

  it('is out within one connection attempt of its target being killed, without a call, and back within the reconnect backoff', async () => {
    const server = await echoServer('phoenix');
    const { backend, log } = watched(server.address, 'phoenix');
    expect(await echoOn(backend)).toBe('phoenix');

    const killedAt = performance.now();
    await killEchoServer(server);
    const down = await log.change(1);
    expect(down).toMatchObject({ available: false, message: refused(server.address) });
    // The lost connection is followed by an attempt at once, refused within milliseconds.
    expect(down.at - killedAt).toBeLessThan(500);

    const restarted = await echoServer('phoenix', server.port);
    const listeningAt = performance.now();
    const up = await log.change(2);
    expect(up).toMatchObject({ available: true, message: undefined });
    // grpc-js retries every 500 ms (+ 20 % jitter) at most while down.
    expect(up.at - listeningAt).toBeLessThan(1000);
    expect([backend.isAvailable(), backend.connectionError]).toEqual([true, undefined]);
    expect(await echoOn(backend)).toBe('phoenix');
    // The calls that read the channel's last error never reach a server.
    expect(restarted.calls.map((call) => call.method)).toEqual([ECHO]);
  });

  it('leaves the rotation when its target stops gracefully (GOAWAY)', async () => {
    const server = await echoServer('graceful');
    const { backend, log } = watched(server.address);
    expect(await echoOn(backend)).toBe('graceful');
    await server.close();
    expect(await log.change(1)).toMatchObject({
      available: false,
      message: refused(server.address),
    });
  });

  it('stops watching its channel on close: no transition afterwards', async () => {
    const address = await unusedAddress();
    const { backend, log } = watched(address);
    expect(await echoOn(backend)).toBe('14');
    await log.change(1);
    backend.close();
    const port = Number(address.split(':')[1]);
    const server = await echoServer('late', port);
    // A fresh backend on the same target comes up: the closed one would have by then too.
    const fresh = watched(server.address);
    expect(await echoOn(fresh.backend)).toBe('late');
    expect(log.changes.map((change) => change.available)).toEqual([false]);
    expect(backend.isAvailable()).toBe(false);
  });
});

describe('connectionError', () => {
  it('keeps the last error of grpc-js details, and the resolution note when there is one', () => {
    const details = (note: string) =>
      `No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1. Resolution note: ${note}`;
    expect(connectionError('127.0.0.1:1', details('')).message).toBe(
      'connection to 127.0.0.1:1 failed: connect ECONNREFUSED 127.0.0.1:1',
    );
    expect(connectionError('t', details('no addresses')).message).toBe(
      'connection to t failed: connect ECONNREFUSED 127.0.0.1:1 (no addresses)',
    );
    expect(
      connectionError('dns:none:1', 'Name resolution failed for target dns:none:1').message,
    ).toBe('connection to dns:none:1 failed: Name resolution failed for target dns:none:1');
  });
});
