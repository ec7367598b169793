import { connectivityState, status, type Client } from '@grpc/grpc-js';
import { callRawBidi, callRawUnary } from '@grpc-proxy/testing';
import type { Backend } from './contracts';
import { MAX_CALL_ATTEMPTS } from './transparent-retry';
import { eventually } from './test-support/grpc-fixtures';
import { useRetryScene } from './test-support/retry-scene';
import { ECHO } from './test-support/test-backend';

/** A backend whose passive health says it is out of rotation; counts `client()` calls. */
function outOfRotation(name: string, client: Client, connectionError?: Error) {
  const backend = {
    name,
    clientCalls: 0,
    connectionError,
    client(): Client {
      backend.clientCalls++;
      return client;
    },
    isAvailable: () => false,
  };
  return backend satisfies Backend;
}

/** Resolves once `client`'s channel failed a connection attempt (its target listens nowhere). */
async function inTransientFailure(client: Client): Promise<void> {
  const channel = client.getChannel();
  await eventually(
    () => channel.getConnectivityState(true) === connectivityState.TRANSIENT_FAILURE,
    'the channel failed to connect',
  );
}

describe('a backend out of rotation (isAvailable() false)', () => {
  const scene = useRetryScene();

  it('fails the attempt at once, without a connect wait, and retries it on the next route', async () => {
    const down = scene.clientOf('127.0.0.1:1');
    await inTransientFailure(down);
    const refused = new Error('connect ECONNREFUSED 127.0.0.1:1');
    const out = outOfRotation('out', down, refused);
    // A connect wait would last the whole test.
    const { echo, client } = await scene.thenEcho('out', out, { backendConnectTimeoutMs: 60_000 });
    const outcome = await callRawBidi(client, `${ECHO}/Bidi`, [Buffer.from('a'), Buffer.from('b')]);
    expect([outcome.status.code, outcome.responses]).toEqual([
      status.OK,
      [Buffer.from('a'), Buffer.from('b')],
    ]);
    await eventually(() => scene.reports.length === 1, 'observer heard the end');
    expect(scene.reports[0]).toMatchObject({ retries: 1, backend: `dns:${echo.target}` });
    expect(scene.releases).toEqual([
      [
        'out',
        status.UNAVAILABLE,
        'grpc-proxy: backend out unavailable: connect ECONNREFUSED 127.0.0.1:1',
      ],
      ['echo', status.OK, 'OK'],
    ]);
    expect([scene.asks, out.clientCalls]).toEqual([2, 0]);
  });

  it("ends UNAVAILABLE 'out of rotation' once the budget refuses a second try", async () => {
    const out = outOfRotation('out', scene.clientOf('127.0.0.1:1'));
    const client = await scene.proxy([['out', out]], { backendConnectTimeoutMs: 60_000 });
    const outcome = await callRawUnary(client, `${ECHO}/Unary`, Buffer.from('x'));
    const details = 'grpc-proxy: backend out unavailable: out of rotation';
    expect([outcome.status.code, outcome.status.details]).toEqual([status.UNAVAILABLE, details]);
    await eventually(() => scene.reports.length === 1, 'observer heard the end');
    expect(scene.reports[0]).toMatchObject({
      code: status.UNAVAILABLE,
      details,
      proxyError: true,
      retries: 0,
      backend: 'out',
    });
    // A backend out of rotation is unreachable: not tried again in the call; the director is
    // asked again for another backend, up to MAX_CALL_ATTEMPTS times.
    expect(scene.asks).toBe(1 + MAX_CALL_ATTEMPTS);
    expect(scene.releases).toEqual(
      Array(1 + MAX_CALL_ATTEMPTS).fill(['out', status.UNAVAILABLE, details]),
    );
    expect(out.clientCalls).toBe(0);
  });

  it('is used as usual while isAvailable() is true', async () => {
    const echo = await scene.echo();
    const backendClient = scene.clientOf(echo.target);
    const backend: Backend = { name: 'up', client: () => backendClient, isAvailable: () => true };
    const client = await scene.proxy([['up', backend]]);
    const outcome = await callRawUnary(client, `${ECHO}/Unary`, Buffer.from('x'));
    expect([outcome.status.code, outcome.responses]).toEqual([status.OK, [Buffer.from('echo:x')]]);
    await eventually(() => scene.reports.length === 1, 'observer heard the end');
    expect(scene.reports[0]).toMatchObject({ retries: 0, backend: 'up' });
  });

  it('keeps the connect wait for a backend without that signal', async () => {
    const down = scene.clientOf('127.0.0.1:1');
    await inTransientFailure(down);
    const backend: Backend = { name: 'plain', client: () => down };
    const client = await scene.proxy([['plain', backend]], { backendConnectTimeoutMs: 100 });
    const outcome = await callRawUnary(client, `${ECHO}/Unary`, Buffer.from('x'));
    expect(outcome.status.code).toBe(status.UNAVAILABLE);
    expect(outcome.status.details).toMatch(
      /^grpc-proxy: backend plain unavailable: not connected within 100 ms: No connection established/,
    );
    await eventually(() => scene.reports.length === 1, 'observer heard the end');
    // One attempt after a wait of 100 ms; unreachable, the backend is not tried again (the
    // director's second route is refused by the budget).
    expect([scene.reports[0].retries, scene.asks]).toEqual([0, 1 + MAX_CALL_ATTEMPTS]);
  });
});
