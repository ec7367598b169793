import { status } from '@grpc/grpc-js';
import { startEchoServer, type EchoServerHandle } from '@grpc-proxy/testing';
import { startCommand, startListening, stopCommands } from './test-support/command-run';
import { echoClients, expectDrainingCalls, openRunningStream } from './test-support/echo-clients';

describe('grpc-proxy command: graceful drain on SIGTERM/SIGINT (in-process)', () => {
  let backend: EchoServerHandle | undefined;
  const clients = echoClients();

  afterEach(async () => {
    clients.closeAll();
    await stopCommands();
    backend?.forceClose();
    backend = undefined;
  });

  /** The command in front of an echo backend, with one bidi stream open through it. */
  async function proxyWithOpenStream(drainTimeoutMs: number) {
    backend = await startEchoServer({ name: 'backend' });
    const { run, addresses } = await startListening([
      '--listen',
      '127.0.0.1:0',
      '--backend',
      backend.address,
      '--drain-timeout',
      String(drainTimeoutMs),
    ]);
    const session = await openRunningStream(clients.connect(addresses[0]));
    return { run, address: addresses[0], session };
  }

  it('lets an in-flight stream complete, refuses new calls, and exits 0', async () => {
    const { run, address, session } = await proxyWithOpenStream(30000);

    run.signal('SIGTERM');
    await run.waitForLog((line) => line.msg === 'draining: no new calls', 'the drain');
    expect(run.logs.find((line) => line.msg === 'shutting down')?.signal).toBe('SIGTERM');

    await expectDrainingCalls(clients.connect(address), session);

    expect(await run.exitCode).toBe(0);
    expect(run.stderr()).toBe('');
    const stopped = run.logs.find((line) => line.msg === 'grpc-proxy stopped');
    expect([stopped?.inFlightAtStart, stopped?.endedByProxy]).toEqual([1, 0]);
    // The refused call never reached the backend.
    expect(backend!.calls.map((call) => call.method)).toEqual([
      '/grpc_proxy.testing.v1.EchoService/Bidi',
    ]);
  });

  it('ends calls still running at the drain timeout with UNAVAILABLE, ends their backend leg, and exits 0', async () => {
    const { run, session } = await proxyWithOpenStream(200);

    run.signal('SIGINT');
    const outcome = await session.outcome;
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.UNAVAILABLE,
      'grpc-proxy: shutting down',
    ]);
    // The backend leg is cancelled too. (Node's http2 ends the stream before resetting it, so
    // the echo server may record that as a half-close rather than a cancel: it ended either way.)
    await backend!.waitForCall((call) => call.ended && call.method.endsWith('/Bidi'));
    expect(await run.exitCode).toBe(0);
    const stopped = run.logs.find((line) => line.msg === 'grpc-proxy stopped');
    expect([stopped?.inFlightAtStart, stopped?.endedByProxy]).toEqual([1, 1]);
  });

  it('ends the running calls at once on a second signal', async () => {
    const { run, session } = await proxyWithOpenStream(600000);

    run.signal('SIGTERM');
    await run.waitForLog((line) => line.msg === 'draining: no new calls', 'the drain');
    run.signal('SIGTERM');
    const outcome = await session.outcome;
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.UNAVAILABLE,
      'grpc-proxy: shutting down',
    ]);
    expect(await run.exitCode).toBe(0);
    expect(
      run.logs.filter((line) => line.msg === 'second signal: ending running calls now'),
    ).toEqual([expect.objectContaining({ signal: 'SIGTERM', level: 40 })]);
  });

  it('exits 3 when the shutdown fails, not the "cannot start" 1, with the reason on stderr', async () => {
    backend = await startEchoServer({ name: 'backend' });
    // stdout breaks for the drain's last log line, so the drain itself fails.
    let broken = false;
    const run = startCommand(['--listen', '127.0.0.1:0', '--backend', backend.address], (text) => {
      if (!broken && text.includes('"msg":"grpc-proxy stopped"')) {
        broken = true;
        throw new Error('stdout is gone');
      }
    });
    await run.waitForLog((line) => line.msg === 'grpc-proxy listening', 'grpc-proxy listening');
    await run.stoppable();

    run.signal('SIGTERM');
    expect(await run.exitCode).toBe(3);
    expect(run.stderr()).toBe('grpc-proxy: shutdown failed: stdout is gone\n');
    expect(run.logs.map((line) => line.msg)).toEqual([
      'grpc-proxy listening',
      'shutting down',
      'draining: no new calls',
    ]);
  });
});
