/**
 * Nothing is left behind: after calls of every kind and outcome, the proxy runs no call, has
 * reported and released each one exactly once, and holds no extra timer.
 */
import { status } from '@grpc/grpc-js';
import { ProxyStatusError } from '@grpc-proxy/handler';
import {
  MIXED_CALL_CODES,
  MIXED_CALL_KIND_KEY,
  callEcho,
  echoRequest,
  mixedCallKind,
  runMixedCall,
} from '@grpc-proxy/testing';
import { useHarness } from './test-support/harness';
import { settledTimers, timers } from './test-support/timers';

const CALLS = 120;

describe('no leaks', () => {
  const h = useHarness();

  it(`after ${CALLS} calls of every kind and outcome`, async () => {
    let routes = 0;
    h.director = (call) => {
      if (call.metadata.get(MIXED_CALL_KIND_KEY)[0] === 'director-error') {
        throw new ProxyStatusError(status.FAILED_PRECONDITION, 'rejected');
      }
      routes++;
      return h.route();
    };
    await callEcho(h.echo, echoRequest()); // connections up before counting timers
    await h.reported(1);
    const timersBefore = timers();
    const indexes = Array.from({ length: CALLS }, (_, i) => i);
    const codes = await Promise.all(indexes.map((index) => runMixedCall(h.echo, index)));
    expect(codes).toEqual(indexes.map((index) => MIXED_CALL_CODES[mixedCallKind(index)]));
    // Every call the proxy saw start: under load, a deadline call (100 ms) may expire in the
    // client before it is sent, and a cancelled one be cancelled before, so only the other kinds
    // must have reached it.
    const mustStart = indexes.filter(
      (index) => !['deadline', 'cancel'].includes(mixedCallKind(index)),
    ).length;
    expect(h.started.count).toBeGreaterThanOrEqual(mustStart);
    const reports = await h.reported(h.started.count);
    expect(reports).toHaveLength(h.started.count);
    expect(h.releases).toHaveLength(routes);
    expect(h.proxy.proxy.activeCalls).toBe(0);
    // grpc-js (client and backend, same process) may hold a few timers of its own at any
    // moment; a timer left per call would add about a hundred.
    expect(await settledTimers(timersBefore + 10)).toBeLessThan(timersBefore + 10);
  });
});
