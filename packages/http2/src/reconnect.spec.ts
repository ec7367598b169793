/**
 * A target whose connection attempt failed is tried again after a capped backoff (100 ms to
 * 500 ms), not by every call; calls meanwhile wait for the next attempt (backendConnectTimeoutMs)
 * instead of failing on the strength of the last one.
 */
import { Client, credentials, status } from '@grpc/grpc-js';
import { callRawUnary } from '@grpc-proxy/testing';
import { startHttp2Proxy, type RunningProxy } from './test-support/proxy';
import { answerGrpc, startRawBackend, type RawBackend } from './test-support/raw-h2';

const METHOD = '/acme.v1.Svc/Do';

/** A target nobody listens on (a port just given back). */
async function deadTarget(): Promise<string> {
  const probe = await startRawBackend(() => undefined);
  await probe.close();
  return probe.target;
}

describe('reconnecting to a backend', () => {
  let proxy: RunningProxy | undefined;
  let backend: RawBackend | undefined;
  let client: Client | undefined;

  afterEach(async () => {
    client?.close();
    await proxy?.close();
    await backend?.close();
    proxy = backend = client = undefined;
  });

  async function start(target: string, backendConnectTimeoutMs: number): Promise<Client> {
    proxy = await startHttp2Proxy(() => ({ backend: { name: 'b', target } }), {
      backendConnectTimeoutMs,
    });
    client = new Client(proxy.address, credentials.createInsecure());
    return client;
  }

  it('does not connect again within the backoff: calls then fail without an attempt when they may not wait', async () => {
    const target = await deadTarget();
    const proxied = await start(target, 0);
    const first = await callRawUnary(proxied, METHOD, Buffer.from('x'));
    expect([first.status.code, first.status.details]).toEqual([
      status.UNAVAILABLE,
      `grpc-proxy: backend b unavailable: connect ECONNREFUSED ${target}`,
    ]);
    const second = await callRawUnary(proxied, METHOD, Buffer.from('x'));
    expect([second.status.code, second.status.details]).toEqual([
      status.UNAVAILABLE,
      `grpc-proxy: backend b unavailable: not connected within 0 ms: connect ECONNREFUSED ${target}`,
    ]);
  });

  it('lets a call wait for the next attempt, which reaches a backend that came back', async () => {
    const target = await deadTarget();
    const proxied = await start(target, 1000);
    const first = await callRawUnary(proxied, METHOD, Buffer.from('x'));
    expect(first.status.code).toBe(status.UNAVAILABLE);
    backend = await startRawBackend(
      (stream) => {
        stream.resume();
        stream.on('end', () => answerGrpc(stream, Buffer.from('back')));
      },
      {},
      Number(target.split(':')[1]),
    );
    const second = await callRawUnary(proxied, METHOD, Buffer.from('x'));
    expect([second.status.code, second.responses]).toEqual([status.OK, [Buffer.from('back')]]);
  });
});
