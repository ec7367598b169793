import { status } from '@grpc/grpc-js';
import {
  callEcho,
  createEchoClient,
  echoRequest,
  openBidi,
  startEchoServer,
  type EchoServerHandle,
  type EchoServiceClient,
} from '@grpc-proxy/testing';
import { killAll, startListeningCli } from './test-support/cli-process';

describe('grpc-proxy command: graceful drain on SIGTERM/SIGINT (child process)', () => {
  let backend: EchoServerHandle | undefined;
  const clients: EchoServiceClient[] = [];

  afterEach(async () => {
    clients.splice(0).forEach((client) => client.close());
    await killAll();
    backend?.forceClose();
    backend = undefined;
  });

  function client(address: string): EchoServiceClient {
    const echo = createEchoClient(address);
    clients.push(echo);
    return echo;
  }

  it('lets an in-flight stream complete, refuses new calls, and exits 0', async () => {
    backend = await startEchoServer({ name: 'backend' });
    const { cli, addresses } = await startListeningCli([
      '--listen',
      '127.0.0.1:0',
      '--backend',
      backend.address,
      '--drain-timeout',
      '30000',
    ]);
    const session = openBidi(client(addresses[0]));
    session.call.write(echoRequest({ payload: Buffer.from('before') }));
    expect((await session.nextResponse()).payload.toString()).toBe('before');

    cli.child.kill('SIGTERM');
    await cli.waitForLog((line) => line.msg === 'draining: no new calls', 'the drain');
    expect(cli.logs.find((line) => line.msg === 'shutting down')?.signal).toBe('SIGTERM');

    const refused = await callEcho(client(addresses[0]), echoRequest());
    expect(refused.status.code).toBe(status.UNAVAILABLE);
    expect(refused.responses).toEqual([]);

    session.call.write(echoRequest({ payload: Buffer.from('during') }));
    expect((await session.nextResponse()).payload.toString()).toBe('during');
    session.call.end();
    const outcome = await session.outcome;
    expect([outcome.status.code, outcome.responses.length]).toEqual([status.OK, 2]);

    expect(await cli.exited).toEqual({ code: 0, signal: null });
    const stopped = cli.logs.find((line) => line.msg === 'grpc-proxy stopped');
    expect([stopped?.inFlightAtStart, stopped?.endedByProxy]).toEqual([1, 0]);
    // The refused call never reached the backend.
    expect(backend.calls.map((call) => call.method)).toEqual([
      '/grpc_proxy.testing.v1.EchoService/Bidi',
    ]);
  });

  it('ends calls still running at the drain timeout with UNAVAILABLE, ends their backend leg, and exits 0', async () => {
    backend = await startEchoServer({ name: 'backend' });
    const { cli, addresses } = await startListeningCli([
      '--listen',
      '127.0.0.1:0',
      '--backend',
      backend.address,
      '--drain-timeout',
      '200',
    ]);
    const session = openBidi(client(addresses[0]));
    session.call.write(echoRequest({ payload: Buffer.from('hello') }));
    await session.nextResponse();

    cli.child.kill('SIGINT');
    const outcome = await session.outcome;
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.UNAVAILABLE,
      'grpc-proxy: shutting down',
    ]);
    // The backend leg is cancelled too. (Node's http2 ends the stream before resetting it, so
    // the echo server may record that as a half-close rather than a cancel: it ended either way.)
    await backend.waitForCall((call) => call.ended && call.method.endsWith('/Bidi'));
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    const stopped = cli.logs.find((line) => line.msg === 'grpc-proxy stopped');
    expect([stopped?.inFlightAtStart, stopped?.endedByProxy]).toEqual([1, 1]);
  });

  it('ends the running calls at once on a second signal', async () => {
    backend = await startEchoServer({ name: 'backend' });
    const { cli, addresses } = await startListeningCli([
      '--listen',
      '127.0.0.1:0',
      '--backend',
      backend.address,
      '--drain-timeout',
      '600000',
    ]);
    const session = openBidi(client(addresses[0]));
    session.call.write(echoRequest({ payload: Buffer.from('hello') }));
    await session.nextResponse();

    cli.child.kill('SIGTERM');
    await cli.waitForLog((line) => line.msg === 'draining: no new calls', 'the drain');
    cli.child.kill('SIGTERM');
    const outcome = await session.outcome;
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.UNAVAILABLE,
      'grpc-proxy: shutting down',
    ]);
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    expect(cli.logs.some((line) => line.msg === 'second signal: ending running calls now')).toBe(
      true,
    );
  });
});
