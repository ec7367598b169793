/** Listening (TCP, IPv6, unix socket) and the graceful drain of `close()`. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import {
  HeadersMode,
  callEcho,
  createEchoClient,
  echoRequest,
  openBidi,
  startEchoServer,
  type EchoServerHandle,
  type EchoServiceClient,
} from '@grpc-proxy/testing';
import { createHttp2Proxy, type Http2Proxy } from './server';

describe('createHttp2Proxy', () => {
  let backend: EchoServerHandle;
  let proxy: Http2Proxy;
  let clients: EchoServiceClient[];
  let dir: string | undefined;

  beforeEach(async () => {
    backend = await startEchoServer({ name: 'echo-backend' });
    proxy = createHttp2Proxy({ director: () => ({ backend: { target: backend.address } }) });
    clients = [];
    dir = undefined;
  });

  afterEach(async () => {
    for (const client of clients) client.close();
    await proxy.close(0);
    backend.forceClose();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  function client(address: string): EchoServiceClient {
    const made = createEchoClient(address);
    clients.push(made);
    return made;
  }

  /** A bidi call the backend holds open (headers sent) until the client sends again. */
  async function heldCall(address: string) {
    const session = openBidi(client(address));
    session.call.write(
      echoRequest({
        payload: Buffer.from('first'),
        headersMode: HeadersMode.HEADERS_MODE_IMMEDIATE_THEN_WAIT,
      }),
    );
    await session.headers();
    return session;
  }

  it('listens on 127.0.0.1:0 and resolves with the real port', async () => {
    const address = await proxy.listen('127.0.0.1:0');
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(address).not.toBe('127.0.0.1:0');
    expect(proxy.address).toBe(address);
    expect((await callEcho(client(address), echoRequest())).status.code).toBe(status.OK);
  });

  it('listens on a unix socket', async () => {
    dir = mkdtempSync(join(tmpdir(), 'grpc-proxy-http2-'));
    const address = await proxy.listen(`unix:${join(dir, 'proxy.sock')}`);
    expect(address).toBe(`unix:${join(dir, 'proxy.sock')}`);
    expect((await callEcho(client(address), echoRequest())).status.code).toBe(status.OK);
  });

  it('listens on [::1]:0', async () => {
    const address = await proxy.listen('[::1]:0');
    expect(address).toMatch(/^\[::1\]:\d+$/);
    expect((await callEcho(client(address), echoRequest())).status.code).toBe(status.OK);
  });

  it('refuses an address it cannot listen on, naming the forms it takes', async () => {
    await expect(proxy.listen('localhost')).rejects.toThrow(
      'listen address must be host:port, [v6]:port or unix:/path, got "localhost"',
    );
    await expect(proxy.listen('127.0.0.1:70000')).rejects.toThrow(TypeError);
  });

  it('lets a running call finish during the drain, then closes', async () => {
    const address = await proxy.listen('127.0.0.1:0');
    const session = await heldCall(address);
    const closed = proxy.close(10_000);
    session.call.write(echoRequest({ payload: Buffer.from('second') }));
    session.call.end();
    const outcome = await session.outcome;
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses.map((r) => r.payload.toString())).toEqual(['first', 'second']);
    await closed;
    expect(proxy.activeCalls).toBe(0);
  });

  it('ends the calls still running at the drain timeout with UNAVAILABLE "grpc-proxy: shutting down"', async () => {
    const address = await proxy.listen('127.0.0.1:0');
    // Held until cancelled: Node ends a reset stream's readable side, which a backend that
    // answered on the half-close would take for one.
    const session = openBidi(client(address));
    session.call.write(echoRequest({ payload: Buffer.from('held'), holdUntilCancelled: true }));
    await session.nextResponse();
    await proxy.close(50);
    const outcome = await session.outcome;
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.UNAVAILABLE,
      'grpc-proxy: shutting down',
    ]);
    const record = await backend.waitForCall((c) => c.ended, {
      timeoutMs: 5000,
      description: 'the backend call to end',
    });
    expect(record.cancelled).toBe(true);
  });

  it('ends the running calls at once when close(0) comes during a drain (a second signal)', async () => {
    const address = await proxy.listen('127.0.0.1:0');
    const session = openBidi(client(address));
    session.call.write(echoRequest({ payload: Buffer.from('held'), holdUntilCancelled: true }));
    await session.nextResponse();
    const draining = proxy.close(600_000);
    expect(proxy.close(0)).toBe(draining);
    await draining;
    const outcome = await session.outcome;
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.UNAVAILABLE,
      'grpc-proxy: shutting down',
    ]);
  });

  it('takes no new calls once closed', async () => {
    const address = await proxy.listen('127.0.0.1:0');
    await proxy.close();
    const outcome = await callEcho(client(address), echoRequest(), {
      options: { deadline: Date.now() + 5000 },
    });
    expect(outcome.status.code).toBe(status.UNAVAILABLE);
  });
});
