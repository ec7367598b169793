import { status } from '@grpc/grpc-js';
import {
  callEcho,
  createEchoClient,
  echoRequest,
  openBidi,
  type EchoClientOptions,
  type EchoServiceClient,
} from '@grpc-proxy/testing';

/** Who answered an echo call through `client`: the server's name, or the call's status code. */
export async function answeredBy(client: EchoServiceClient): Promise<string | status> {
  const outcome = await callEcho(client, echoRequest());
  return outcome.responses[0]?.serverName ?? outcome.status.code;
}

/** The echo clients a spec opens, closed together in `afterEach`. */
export function echoClients() {
  const open: EchoServiceClient[] = [];
  return {
    /** A new client of `address`, closed by {@link closeAll}. */
    connect(address: string, options?: EchoClientOptions): EchoServiceClient {
      const client = createEchoClient(address, options);
      open.push(client);
      return client;
    },
    closeAll(): void {
      open.splice(0).forEach((client) => client.close());
    },
  };
}

/** A bidi stream on `client` with one message echoed, so that the call is known to be running. */
export async function openRunningStream(client: EchoServiceClient) {
  const session = openBidi(client);
  session.call.write(echoRequest({ payload: Buffer.from('before') }));
  expect((await session.nextResponse()).payload.toString()).toBe('before');
  return session;
}

/**
 * During a drain: a new call on `fresh` is refused with `UNAVAILABLE`, while the running `session`
 * (from {@link openRunningStream}) still echoes and then completes `OK`.
 */
export async function expectDrainingCalls(
  fresh: EchoServiceClient,
  session: Awaited<ReturnType<typeof openRunningStream>>,
): Promise<void> {
  const refused = await callEcho(fresh, echoRequest());
  expect(refused.status.code).toBe(status.UNAVAILABLE);
  expect(refused.responses).toEqual([]);

  session.call.write(echoRequest({ payload: Buffer.from('during') }));
  expect((await session.nextResponse()).payload.toString()).toBe('during');
  session.call.end();
  const outcome = await session.outcome;
  expect([outcome.status.code, outcome.responses.length]).toEqual([status.OK, 2]);
}
