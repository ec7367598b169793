/**
 * A target whose connection attempt failed is tried again after a capped backoff (100 ms to
 * 500 ms), not by every call; calls to a backend without passive health (a plain `{ name,
 * target }`) meanwhile wait for the next attempt (backendConnectTimeoutMs) instead of failing on
 * the strength of the last one.
 */
import { Client, credentials, status } from '@grpc/grpc-js';
import type { CallReport } from '@grpc-proxy/handler';
import { callRawUnary } from '@grpc-proxy/testing';
import { startConnectionSink, type ConnectionSink } from './test-support/connection-sink';
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
  let sink: ConnectionSink | undefined;
  let reports: CallReport[];

  afterEach(async () => {
    client?.close();
    await proxy?.close();
    await backend?.close();
    await sink?.close();
    proxy = backend = client = sink = undefined;
  });

  async function start(target: string, backendConnectTimeoutMs: number): Promise<Client> {
    reports = [];
    proxy = await startHttp2Proxy(() => ({ backend: { name: 'b', target } }), {
      backendConnectTimeoutMs,
      observer: { onCallEnd: (report) => reports.push(report) },
    });
    client = new Client(proxy.address, credentials.createInsecure());
    return client;
  }

  it('does not connect again within the backoff: retries and calls then fail without an attempt when they may not wait', async () => {
    sink = await startConnectionSink();
    const proxied = await start(sink.target, 0);
    const failed = [
      status.UNAVAILABLE,
      'grpc-proxy: backend b unavailable: not connected within 0 ms: the connection closed before the backend sent its HTTP/2 settings',
    ];
    // The first attempt connects and fails; its 4 retries (the same target, as the director
    // says) come within the backoff.
    const first = await callRawUnary(proxied, METHOD, Buffer.from('x'));
    expect([first.status.code, first.status.details]).toEqual(failed);
    const second = await callRawUnary(proxied, METHOD, Buffer.from('x'));
    expect([second.status.code, second.status.details]).toEqual(failed);
    expect(reports.map((report) => report.retries)).toEqual([4, 4]);
    expect(sink.times).toHaveLength(1);
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
