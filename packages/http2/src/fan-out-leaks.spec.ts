/**
 * Fan-out leaves nothing behind: after fan-out calls that end OK (merged and streamed), with an
 * error, cancelled by the client and out of time, the proxy runs no call, has reported and
 * released each one once, every backend call is over, and no timer is left.
 */
import { status } from '@grpc/grpc-js';
import type { FanOutMember, Route } from '@grpc-proxy/handler';
import {
  ECHO_SERVICE_NAME,
  callEcho,
  callServerStream,
  echoRequest,
  openBidi,
} from '@grpc-proxy/testing';
import { useHarness } from './test-support/harness';
import { settledTimers, timers } from './test-support/timers';

const ROUNDS = 10;

describe('fan-out: no leaks', () => {
  const h = useHarness();

  it(`after ${ROUNDS * 4} fan-out calls of every outcome`, async () => {
    let routes = 0;
    h.director = (call): Route => {
      routes++;
      const { backend, release } = h.route();
      const member = backend as FanOutMember;
      const merge = call.method === `/${ECHO_SERVICE_NAME}/Echo`;
      return {
        backend: {
          name: 'fan',
          fanOut: {
            backends: [member, member, member],
            responses: merge ? 'merge' : 'stream',
          },
        },
        release,
      };
    };
    await callEcho(h.echo, echoRequest()); // connections up before counting timers
    await h.reported(1);
    const timersBefore = timers();
    const cancelled = async (): Promise<status> => {
      const session = openBidi(h.echo);
      session.call.write(echoRequest({ holdUntilCancelled: true }));
      await Promise.all([1, 2, 3].map(() => session.nextResponse()));
      session.call.cancel();
      return (await session.outcome).status.code;
    };
    const kinds = [
      async () => (await callEcho(h.echo, echoRequest())).status.code,
      async () =>
        (await callServerStream(h.echo, echoRequest({ statusCode: status.NOT_FOUND }))).status.code,
      cancelled,
      async () => {
        const deadline = new Date(Date.now() + 100);
        const request = echoRequest({ responseCount: 1, holdUntilCancelled: true });
        return (await callServerStream(h.echo, request, { options: { deadline } })).status.code;
      },
    ];
    const indexes = Array.from({ length: ROUNDS * kinds.length }, (_, i) => i);
    const codes = await Promise.all(indexes.map((i) => kinds[i % kinds.length]()));
    const expected = [status.OK, status.NOT_FOUND, status.CANCELLED, status.DEADLINE_EXCEEDED];
    expect(codes).toEqual(indexes.map((i) => expected[i % kinds.length]));
    const reports = await h.reported(h.started.count);
    expect(reports).toHaveLength(h.started.count);
    expect(h.releases).toHaveLength(routes);
    expect(h.proxy.proxy.activeCalls).toBe(0);
    // Every backend call is over (answered, cancelled or out of time).
    for (let polls = 0; polls < 500 && h.backend.calls.some((c) => !c.ended); polls++) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(h.backend.calls.filter((c) => !c.ended)).toEqual([]);
    expect(await settledTimers(timersBefore + 10)).toBeLessThan(timersBefore + 10);
  });
});
