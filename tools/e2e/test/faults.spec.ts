import * as http2 from 'node:http2';
import { status } from '@grpc/grpc-js';
import { encodeMessage } from '@grpc-proxy/codec';
import {
  callEcho,
  callRawUnary,
  echoRequest,
  openBidi,
  type EchoServiceClient,
} from '@grpc-proxy/testing';
import { grpcRequestHeaders, probeService, type BackendEvent, type BackendProcess } from '../src';
import { PROBE_INTERVAL_MS, targetUnavailable, untilOk } from './support/passive-health';
import { ENGINES, useHarness, type Harness } from './support/use-harness';

/** A unary echo of `payload`; resolves with the status code and the echoed payloads. */
async function echo(client: EchoServiceClient, payload: string, deadlineMs = 10000) {
  const outcome = await callEcho(client, echoRequest({ payload: Buffer.from(payload) }), {
    options: { deadline: Date.now() + deadlineMs },
  });
  return { status: outcome.status, payloads: outcome.responses.map((r) => r.payload.toString()) };
}

/** grpc-proxy-echo in its own process with the proxy in front; a client of the proxy. */
async function proxiedEchoCli(h: Harness) {
  const echoServer = await h.echoCli();
  const proxy = await h.proxy({ backend: echoServer.address });
  return { echoServer, proxy, client: h.echoClient(proxy.address) };
}

/** A probe backend in its own process with the proxy in front. */
async function proxiedBackend(h: Harness) {
  const backend = await h.backend();
  return { backend, proxy: await h.proxy({ backend: backend.address }) };
}

/** Waits for the backend's first `call` event for `method` (each case has its own backend). */
function backendCallOf(backend: BackendProcess, method: string) {
  return backend.waitForEvent((event) => event.event === 'call' && event.method === method, 10000);
}

function cancellationOf(backend: BackendProcess, call: BackendEvent, timeoutMs: number) {
  return backend.waitForEvent(
    (event) => event.event === 'cancelled' && event.id === call.id,
    timeoutMs,
  );
}

const ECHO_PATH = '/grpc_proxy.testing.v1.EchoService/Echo';

describe.each(ENGINES)('faults (%s engine)', (engine) => {
  const h = useHarness({ engine });

  /**
   * Once the backend is back on its port, calls succeed again within one probe interval (issue
   * 13: while the only target is out of rotation calls fail fast, and the proxy's probe, at most
   * 500 ms + 20 % apart, brings it back).
   */
  async function expectBackWithinProbeInterval(client: EchoServiceClient, what: string) {
    const back = await untilOk(() => echo(client, 'back'), PROBE_INTERVAL_MS);
    expect([back.outcome.status.code, back.outcome.payloads]).toEqual([status.OK, ['back']]);
    expect(back.ms).toBeLessThanOrEqual(PROBE_INTERVAL_MS);
    process.stdout.write(
      `[e2e] ${engine}: ${what}: first OK ${back.ms.toFixed(0)} ms after the restart, ${back.failedBefore} fast failures before\n`,
    );
  }

  it('backend killed mid-stream: UNAVAILABLE within 2 s, proxy stays up, calls succeed after restart', async () => {
    const { echoServer, proxy, client } = await proxiedEchoCli(h);
    const session = openBidi(client);
    session.call.write(echoRequest({ payload: Buffer.from('one') }));
    expect((await session.nextResponse()).payload.toString()).toBe('one');

    const killedAt = performance.now();
    await echoServer.process.stop('SIGKILL');
    const { status: result } = await session.outcome;
    const msToUnavailable = performance.now() - killedAt;
    expect(result.code).toBe(status.UNAVAILABLE);
    // The backend sent headers and a message, then vanished: the proxy's failure, and it says so.
    expect(result.details).toMatch(/^grpc-proxy: backend default\/127\.0\.0\.1:\d+ unavailable: /);
    expect(msToUnavailable).toBeLessThan(2000);
    process.stdout.write(
      `[e2e] ${engine}: backend killed mid-stream: client saw UNAVAILABLE after ${msToUnavailable.toFixed(0)} ms: ${result.details}\n`,
    );

    expect(proxy.process.running).toBe(true);

    await h.echoCli(echoServer.port);
    await expectBackWithinProbeInterval(client, 'killed mid-stream');
  });

  it('backend down: calls fail fast with UNAVAILABLE, and succeed within a probe interval once it is back', async () => {
    const { echoServer, client } = await proxiedEchoCli(h);
    expect((await echo(client, 'up')).status.code).toBe(status.OK);

    await echoServer.process.stop('SIGKILL');
    const startedAt = performance.now();
    const down = await echo(client, 'while down', 5000);
    const msToFail = performance.now() - startedAt;
    expect(down.status.code).toBe(status.UNAVAILABLE);
    expect(down.status.details).toMatch(targetUnavailable('default', ECHO_PATH));
    expect(msToFail).toBeLessThan(2000);
    process.stdout.write(
      `[e2e] ${engine}: call while backend down: UNAVAILABLE after ${msToFail.toFixed(0)} ms: ${down.status.details}\n`,
    );

    await h.echoCli(echoServer.port);
    await expectBackWithinProbeInterval(client, 'down, then restarted');
  });

  it('backend that never answers: DEADLINE_EXCEEDED, and the backend call is cancelled', async () => {
    const { backend, proxy } = await proxiedBackend(h);
    const client = h.probeClient(proxy.address);

    const startedAt = performance.now();
    const outcome = await callRawUnary(client, probeService.Hang.path, Buffer.from('x'), {
      options: { deadline: Date.now() + 500 },
    });
    const msToDeadline = performance.now() - startedAt;
    // The client's own deadline fires (grpc-js words it, with timings).
    expect(outcome.status.code).toBe(status.DEADLINE_EXCEEDED);
    expect(outcome.status.details).toMatch(/^Deadline exceeded after \d+\.\d{3}s/);
    const call = await backendCallOf(backend, 'Hang');
    await cancellationOf(backend, call, 1000);
    const msToCancel = performance.now() - startedAt - msToDeadline;
    expect(proxy.process.running).toBe(true);
    process.stdout.write(
      `[e2e] ${engine}: never-answering backend: DEADLINE_EXCEEDED after ${msToDeadline.toFixed(0)} ms, ` +
        `backend cancellation seen ${msToCancel.toFixed(0)} ms later\n`,
    );
  });

  it.each([
    ['destroyed (FIN)', 'destroy'],
    ['reset (TCP RST)', 'resetAndDestroy'],
  ] as const)(
    'client socket %s mid-call: the backend call is cancelled within 1 s',
    async (_how, how) => {
      const { backend, proxy } = await proxiedBackend(h);
      const session = h.h2Session(proxy.address);

      const closed = session.request(grpcRequestHeaders(probeService.Hang.path), (stream) =>
        stream.write(encodeMessage(Buffer.from('x'))),
      );
      const call = await backendCallOf(backend, 'Hang');
      const destroyedAt = performance.now();
      session.socket[how]();
      await cancellationOf(backend, call, 1000);
      const msToCancel = performance.now() - destroyedAt;
      expect((await closed).rstCode).not.toBe(http2.constants.NGHTTP2_NO_ERROR);
      expect(proxy.process.running).toBe(true);
      process.stdout.write(
        `[e2e] ${engine}: client socket ${how}: backend cancelled after ${msToCancel.toFixed(0)} ms\n`,
      );
    },
  );
});
