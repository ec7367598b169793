/**
 * Nothing is left behind: after calls of every kind and outcome, the proxy runs no call, has
 * reported and released each one exactly once, and holds no extra timer.
 */
import { Metadata, status } from '@grpc/grpc-js';
import { ProxyStatusError } from '@grpc-proxy/handler';
import { callBidi, callEcho, echoRequest, openBidi } from '@grpc-proxy/testing';
import { useHarness } from './test-support/harness';

const KINDS = ['unary', 'bidi', 'backend-error', 'director-error', 'cancel', 'deadline'] as const;
type Kind = (typeof KINDS)[number];
const CALLS = 120;

const CLIENT_CODE: Record<Kind, number> = {
  unary: status.OK,
  bidi: status.OK,
  'backend-error': status.ABORTED,
  'director-error': status.FAILED_PRECONDITION,
  cancel: status.CANCELLED,
  deadline: status.DEADLINE_EXCEEDED,
};

function timers(): number {
  return process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length;
}

describe('no leaks', () => {
  const h = useHarness();

  async function oneCall(kind: Kind): Promise<number> {
    const metadata = new Metadata();
    metadata.set('x-kind', kind);
    // A deadline on every call, so that a deadline timer left running would show.
    const options = { deadline: Date.now() + 60_000 };
    switch (kind) {
      case 'unary':
      case 'director-error':
        return (await callEcho(h.echo, echoRequest(), { metadata, options })).status.code;
      case 'backend-error':
        return (
          await callEcho(h.echo, echoRequest({ statusCode: status.ABORTED }), { metadata, options })
        ).status.code;
      case 'bidi':
        return (await callBidi(h.echo, [echoRequest(), echoRequest()], { metadata, options }))
          .status.code;
      case 'deadline':
        return (
          await callEcho(h.echo, echoRequest({ delayMs: 5000 }), {
            metadata,
            options: { deadline: Date.now() + 100 },
          })
        ).status.code;
      case 'cancel': {
        const session = openBidi(h.echo, { metadata, options });
        session.call.write(echoRequest({ holdUntilCancelled: true }));
        await session.nextResponse();
        session.call.cancel();
        return (await session.outcome).status.code;
      }
    }
  }

  it(`after ${CALLS} calls of every kind and outcome`, async () => {
    let routes = 0;
    h.director = (call) => {
      if (call.metadata.get('x-kind')[0] === 'director-error') {
        throw new ProxyStatusError(status.FAILED_PRECONDITION, 'rejected');
      }
      routes++;
      return h.route();
    };
    await callEcho(h.echo, echoRequest()); // connections up before counting timers
    await h.reported(1);
    const timersBefore = timers();
    const kinds = Array.from({ length: CALLS }, (_, i) => KINDS[i % KINDS.length]);
    const codes = await Promise.all(kinds.map(oneCall));
    expect(codes).toEqual(kinds.map((kind) => CLIENT_CODE[kind]));
    // Every call the proxy saw start (under load, a deadline call may expire in the client
    // before it is sent, or reach the proxy already expired and end before its director).
    expect(h.started.count).toBeGreaterThan(CALLS * 0.9);
    const reports = await h.reported(h.started.count);
    expect(reports).toHaveLength(h.started.count);
    expect(h.releases).toHaveLength(routes);
    expect(h.proxy.proxy.activeCalls).toBe(0);
    // grpc-js (client and backend, same process) may hold a few timers of its own at any
    // moment; a timer left per call would add about a hundred.
    expect(timers()).toBeLessThan(timersBefore + 10);
  });
});
