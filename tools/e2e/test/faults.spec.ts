import * as http2 from 'node:http2';
import { Metadata, status, type Client, type StatusObject } from '@grpc/grpc-js';
import { EchoRequest, createEchoClient, type EchoServiceClient } from '@grpc-proxy/testing';
import {
  BackendProcess,
  EchoCliProcess,
  ProxyProcess,
  RawH2Session,
  callUnary,
  grpcFrame,
  grpcRequestHeaders,
  probeClient,
  probeService,
  type BackendEvent,
} from '../src';

/** Everything a case started, stopped in afterEach whatever happened. */
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startProxy(backendAddress: string): Promise<ProxyProcess> {
  const proxy = await ProxyProcess.start({ backend: backendAddress });
  cleanups.push(() => proxy.stop());
  return proxy;
}

async function startBackend(): Promise<BackendProcess> {
  const backend = await BackendProcess.start();
  cleanups.push(() => backend.stop());
  return backend;
}

function echo(client: EchoServiceClient, payload: string, deadlineMs = 10000) {
  return new Promise<{ code: number; details: string; payload?: string }>((resolve) => {
    client.echo(
      EchoRequest.fromPartial({ payload: Buffer.from(payload) }),
      new Metadata(),
      { deadline: Date.now() + deadlineMs },
      (error, response) =>
        resolve(
          error
            ? { code: error.code, details: error.details }
            : { code: status.OK, details: '', payload: Buffer.from(response!.payload).toString() },
        ),
    );
  });
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

describe('faults', () => {
  it('backend killed mid-stream: UNAVAILABLE within 2 s, proxy stays up, next call succeeds after restart', async () => {
    let echoServer = await EchoCliProcess.start();
    cleanups.push(() => echoServer.process.stop());
    const proxy = await startProxy(echoServer.address);
    const client = createEchoClient(proxy.address);
    cleanups.push(() => client.close());

    const call = client.bidi();
    const ended = new Promise<StatusObject>((resolve) => call.on('status', resolve));
    call.on('error', () => undefined);
    const firstEcho = new Promise<string>((resolve) =>
      call.once('data', (response: { payload: Uint8Array }) =>
        resolve(Buffer.from(response.payload).toString()),
      ),
    );
    call.write(EchoRequest.fromPartial({ payload: Buffer.from('one') }));
    expect(await firstEcho).toBe('one');

    const killedAt = performance.now();
    await echoServer.process.stop('SIGKILL');
    const result = await ended;
    const msToUnavailable = performance.now() - killedAt;
    expect(result.code).toBe(status.UNAVAILABLE);
    // The backend sent headers and a message, then vanished: the proxy's failure, and it says so.
    expect(result.details).toMatch(/^grpc-proxy: backend default\/127\.0\.0\.1:\d+ unavailable: /);
    expect(msToUnavailable).toBeLessThan(2000);
    process.stdout.write(
      `[e2e] backend killed mid-stream: client saw UNAVAILABLE after ${msToUnavailable.toFixed(0)} ms: ${result.details}\n`,
    );

    expect(proxy.process.running).toBe(true);

    echoServer = await EchoCliProcess.start(echoServer.port);
    const next = await echo(client, 'back');
    expect(next).toEqual({ code: status.OK, details: '', payload: 'back' });
  });

  it('backend down: calls fail fast with UNAVAILABLE, and the first call once it is back succeeds', async () => {
    let echoServer = await EchoCliProcess.start();
    cleanups.push(() => echoServer.process.stop());
    const proxy = await startProxy(echoServer.address);
    const client = createEchoClient(proxy.address);
    cleanups.push(() => client.close());
    expect((await echo(client, 'up')).code).toBe(status.OK);

    await echoServer.process.stop('SIGKILL');
    const startedAt = performance.now();
    const down = await echo(client, 'while down', 5000);
    const msToFail = performance.now() - startedAt;
    expect(down.code).toBe(status.UNAVAILABLE);
    expect(down.details).toMatch(/^grpc-proxy: backend default\/127\.0\.0\.1:\d+ unavailable: /);
    expect(msToFail).toBeLessThan(2000);
    process.stdout.write(
      `[e2e] call while backend down: UNAVAILABLE after ${msToFail.toFixed(0)} ms: ${down.details}\n`,
    );

    // The proxy's backend channel failed to connect during the outage; a call arriving after the
    // backend is back must not be failed on the strength of that stale failure (reconnect backoff).
    echoServer = await EchoCliProcess.start(echoServer.port);
    const next = await echo(client, 'back');
    expect(next).toEqual({ code: status.OK, details: '', payload: 'back' });
  });

  it('backend that never answers: DEADLINE_EXCEEDED, and the backend call is cancelled', async () => {
    const backend = await startBackend();
    const proxy = await startProxy(backend.address);
    const client: Client = probeClient(proxy.address);
    cleanups.push(() => client.close());

    const startedAt = performance.now();
    const outcome = await callUnary(client, probeService.Hang.path, Buffer.from('x'), {
      deadlineMs: 500,
    });
    const msToDeadline = performance.now() - startedAt;
    // The client's own deadline fires (grpc-js words it, with timings).
    expect(outcome.code).toBe(status.DEADLINE_EXCEEDED);
    expect(outcome.details).toMatch(/^Deadline exceeded after \d+\.\d{3}s/);
    const call = await backendCallOf(backend, 'Hang');
    await cancellationOf(backend, call, 1000);
    const msToCancel = performance.now() - startedAt - msToDeadline;
    expect(proxy.process.running).toBe(true);
    process.stdout.write(
      `[e2e] never-answering backend: DEADLINE_EXCEEDED after ${msToDeadline.toFixed(0)} ms, ` +
        `backend cancellation seen ${msToCancel.toFixed(0)} ms later\n`,
    );
  });

  it.each([
    ['destroyed (FIN)', 'destroy'],
    ['reset (TCP RST)', 'resetAndDestroy'],
  ] as const)(
    'client socket %s mid-call: the backend call is cancelled within 1 s',
    async (_how, how) => {
      const backend = await startBackend();
      const proxy = await startProxy(backend.address);
      const session = new RawH2Session(proxy.address);
      cleanups.push(() => session.close());

      const closed = session.request(grpcRequestHeaders(probeService.Hang.path), (stream) =>
        stream.write(grpcFrame(Buffer.from('x'))),
      );
      const call = await backendCallOf(backend, 'Hang');
      const destroyedAt = performance.now();
      session.socket[how]();
      await cancellationOf(backend, call, 1000);
      const msToCancel = performance.now() - destroyedAt;
      expect((await closed).rstCode).not.toBe(http2.constants.NGHTTP2_NO_ERROR);
      expect(proxy.process.running).toBe(true);
      process.stdout.write(
        `[e2e] client socket ${how}: backend cancelled after ${msToCancel.toFixed(0)} ms\n`,
      );
    },
  );
});
