import { status, type Metadata } from '@grpc/grpc-js';
import {
  callRawServerStream,
  callRawUnary,
  openRawBidi,
  useProcessWarnings,
} from '@grpc-proxy/testing';
import { createBackendClient } from './backend-client';
import type { Backend, FanOutFailure, FanOutMember } from './contracts';
import { ProxyStatusError } from './status-error';
import { startLegBackend } from './test-support/fan-out-backend';
import { FAN, useFanOutScene } from './test-support/fan-out-scene';
import { entries, eventually } from './test-support/grpc-fixtures';
import { ECHO } from './test-support/test-backend';

const text = (buffers: Buffer[]): string[] => buffers.map((buffer) => buffer.toString());
const ENDED_BEFORE = 'grpc-proxy: fan-out call ended before this backend';
/** A trailers-only status's trailers, without the HTTP headers that come with them. */
function trailersOf(metadata: Metadata): Record<string, unknown> {
  const { 'content-type': _type, date: _date, ...trailers } = entries(metadata);
  return trailers;
}
const stream = (client: Parameters<typeof callRawServerStream>[0]) =>
  callRawServerStream(client, `${ECHO}/ServerStream`, Buffer.from('q'));

describe('fan-out failures (grpc-js engine)', () => {
  const h = useFanOutScene();
  const warnings = useProcessWarnings();

  it('first-error: the first failure ends the call, status and trailers unchanged; the other backends are cancelled', async () => {
    h.legs[0].mode = 'hang';
    h.legs[1].mode = 'fail';
    h.legs[2].mode = 'hang';
    const session = openRawBidi(h.client, `${ECHO}/Bidi`);
    session.call.write(Buffer.from('m'));
    await eventually(() => h.legs.every((leg) => leg.calls[0]?.messages.length === 1), 'm sent');
    // b fails on the half-close.
    session.call.end();
    const outcome = await session.outcome;
    expect([outcome.status.code, outcome.status.details, outcome.responses]).toEqual([
      status.ABORTED,
      'leg b failed',
      [],
    ]);
    expect(trailersOf(outcome.status.metadata)).toEqual({ 'x-leg': ['b'], 'x-failed': ['yes'] });
    await eventually(
      () => h.legs[0].calls[0].cancelled && h.legs[2].calls[0].cancelled,
      'the other backends cancelled',
    );
    const report = await h.reported();
    expect([report.backend, report.code, report.details, report.proxyError]).toEqual([
      FAN,
      status.ABORTED,
      'leg b failed',
      false,
    ]);
    const [a, b, c] = h.names();
    expect(report.fanOut).toEqual([
      { backend: a, code: status.CANCELLED, details: ENDED_BEFORE, proxyError: true, messages: 0 },
      { backend: b, code: status.ABORTED, details: 'leg b failed', proxyError: false, messages: 0 },
      { backend: c, code: status.CANCELLED, details: ENDED_BEFORE, proxyError: true, messages: 0 },
    ]);
    expect(h.releases.map((final) => [final.code, final.details])).toEqual([
      [status.ABORTED, 'leg b failed'],
    ]);
  });

  it("skip: a failed backend is left out; the call ends OK with the others' messages and trailers", async () => {
    h.legs[1].mode = 'fail';
    h.director = () => h.route({ responses: 'stream', onError: 'skip' });
    const outcome = await stream(h.client);
    expect([outcome.status.code, text(outcome.responses).sort()]).toEqual([
      status.OK,
      ['a-0', 'a-1', 'a-2', 'c-0', 'c-1', 'c-2'],
    ]);
    expect(entries(outcome.status.metadata)['x-leg']).toEqual(['a, c']);
    const report = await h.reported();
    expect(report.fanOut?.map((leg) => [leg.code, leg.details, leg.messages])).toEqual([
      [status.OK, 'OK', 3],
      [status.ABORTED, 'leg b failed', 0],
      [status.OK, 'OK', 3],
    ]);
    expect([report.code, report.messagesToClient]).toEqual([status.OK, 6]);
  });

  it('onError function: its message takes the failed backend’s place in the stream', async () => {
    h.legs[1].mode = 'fail';
    const failures: FanOutFailure[] = [];
    const onError = (failure: FanOutFailure): Buffer => {
      failures.push(failure);
      return Buffer.from(`failed ${failure.index}`);
    };
    h.director = () => h.route({ responses: 'stream', onError });
    const outcome = await stream(h.client);
    expect(outcome.status.code).toBe(status.OK);
    expect(text(outcome.responses).sort()).toEqual(
      ['a-0', 'a-1', 'a-2', 'c-0', 'c-1', 'c-2', 'failed 1'].sort(),
    );
    expect(failures).toHaveLength(1);
    const [failure] = failures;
    expect([failure.backend, failure.index, failure.code, failure.details]).toEqual([
      h.names()[1],
      1,
      status.ABORTED,
      'leg b failed',
    ]);
    expect(entries(failure.metadata)).toEqual({ 'x-leg': ['b'], 'x-failed': ['yes'] });
    expect((await h.reported()).messagesToClient).toBe(7);
  });

  it('onError function in merge mode: its message is merged at the failed backend’s position; null leaves one out', async () => {
    h.legs[0].mode = 'fail';
    h.legs[1].mode = 'fail';
    const onError = (failure: FanOutFailure): Buffer | null =>
      failure.index === 0 ? Buffer.from('[A]') : null;
    h.director = () => h.route({ responses: 'merge', onError });
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('x'));
    expect([outcome.status.code, text(outcome.responses)]).toEqual([status.OK, ['[A]c:x']]);
    expect(entries(outcome.status.metadata)['x-leg']).toEqual(['c']);
  });

  it('ends with the first failure when no backend ended OK, whatever the policy', async () => {
    const down: Backend = {
      name: 'down',
      client: () => h.legClients[0],
      isAvailable: () => false,
    };
    for (const leg of h.legs) leg.mode = 'fail-at-once';
    for (const onError of ['skip', () => null] as const) {
      h.reports.length = 0;
      const backends: FanOutMember[] = [down, h.legClients[1], h.legClients[2]];
      h.director = () => h.route({ responses: 'stream', onError, backends });
      const outcome = await stream(h.client);
      expect([outcome.status.code, outcome.status.details]).toEqual([
        status.UNAVAILABLE,
        'grpc-proxy: backend down unavailable: out of rotation',
      ]);
      const report = await h.reported();
      expect([report.proxyError, report.fanOut?.map((leg) => [leg.code, leg.proxyError])]).toEqual([
        true,
        [
          [status.UNAVAILABLE, true],
          [status.ABORTED, false],
          [status.ABORTED, false],
        ],
      ]);
    }
    expect(h.legs[0].calls).toHaveLength(0);
  });

  it('fails a leg to a backend refusing connections UNAVAILABLE, naming it; first-error ends the call with it', async () => {
    const gone = await startLegBackend('gone');
    await gone.close();
    const goneClient = createBackendClient(gone.target);
    try {
      h.legs[0].mode = 'hang';
      h.director = () => h.route({ responses: 'stream', backends: [h.legClients[0], goneClient] });
      const outcome = await stream(h.client);
      const unavailable = new RegExp(
        `^grpc-proxy: backend dns:${gone.target} unavailable: No connection established`,
      );
      expect(outcome.status.code).toBe(status.UNAVAILABLE);
      expect(outcome.status.details).toMatch(unavailable);
      // Cancelled, or never reached when the other failure came first.
      await eventually(
        () => h.legs[0].calls.every((call) => call.cancelled),
        'the other backend cancelled',
      );
      const report = await h.reported();
      expect(report.fanOut).toEqual([
        expect.objectContaining({ code: status.CANCELLED, details: ENDED_BEFORE }),
        expect.objectContaining({ code: status.UNAVAILABLE, proxyError: true }),
      ]);
      expect(report.fanOut?.[1].details).toMatch(unavailable);
      // With skip the call goes on without it.
      h.reports.length = 0;
      h.legs[0].mode = 'answer';
      h.director = () =>
        h.route({ responses: 'stream', onError: 'skip', backends: [h.legClients[0], goneClient] });
      const skipped = await stream(h.client);
      expect([skipped.status.code, text(skipped.responses)]).toEqual([
        status.OK,
        ['a-0', 'a-1', 'a-2'],
      ]);
    } finally {
      goneClient.close();
    }
  });

  it.each([
    ['no backend', [], 'fan-out fan needs at least one backend'],
    [
      'a backend address (http2 engine only)',
      [{ target: '127.0.0.1:1' }],
      'route.backend must be a grpc-js Client, Channel or Backend (an object with client())',
    ],
  ])('ends a fan-out with %s INTERNAL as an invalid route', async (_what, backends, message) => {
    h.director = () => h.route({ responses: 'stream', backends: backends as FanOutMember[] });
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('x'));
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.INTERNAL,
      `grpc-proxy: director returned an invalid route: ${message}`,
    ]);
    expect(warnings).toEqual([
      expect.stringContaining(
        `grpc-proxy: director returned an invalid route for ${ECHO}/Unary: TypeError: ${message}`,
      ),
    ]);
    expect(h.releases.map((final) => final.code)).toEqual([status.INTERNAL]);
    expect(h.legs.map((leg) => leg.calls.length)).toEqual([0, 0, 0]);
  });

  it('cancels a leg opened on a connected channel in the same turn another leg failed at once', async () => {
    // A plain call first: leg a's channel is connected, so its call starts within microtasks.
    h.director = () => ({ backend: h.legClients[0] });
    expect((await stream(h.client)).status.code).toBe(status.OK);
    h.legs[0].calls.length = 0;
    h.legs[0].mode = 'hang';
    const out: Backend = {
      name: 'out',
      isAvailable: () => false,
      client: () => h.legClients[1],
    };
    h.director = () => h.route({ responses: 'stream', backends: [h.legClients[0], out] });
    const outcome = await stream(h.client);
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.UNAVAILABLE,
      'grpc-proxy: backend out unavailable: out of rotation',
    ]);
    // grpc-js makes the stream after the cancel; the backend must still see it cancelled.
    await eventually(
      () => h.legs[0].calls.length === 1 && h.legs[0].calls[0].cancelled,
      'the backend call of leg a cancelled',
    );
  });

  it('ends a fan-out whose call options grpc-js rejects INTERNAL as an invalid route, once', async () => {
    const callOptions = { deadline: 'soon' as unknown as number };
    h.director = () => h.route({ responses: 'stream' }, { callOptions });
    const outcome = await stream(h.client);
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.INTERNAL,
      'grpc-proxy: director returned an invalid route: Channel#createCall: deadline must be a number or Date',
    ]);
    expect(warnings).toHaveLength(1);
    expect(h.releases.map((final) => final.code)).toEqual([status.INTERNAL]);
    expect((await h.reported()).fanOut?.map((leg) => leg.code)).toEqual(
      Array(3).fill(status.CANCELLED),
    );
  });

  it('ends the call with exactly the status an onError throws, as for a director', async () => {
    h.legs[2].mode = 'fail';
    const onError = (): never => {
      throw new ProxyStatusError(status.PERMISSION_DENIED, 'no partial answers');
    };
    h.director = () => h.route({ responses: 'stream', onError });
    const outcome = await stream(h.client);
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.PERMISSION_DENIED,
      'no partial answers',
    ]);
  });

  it('ends the call INTERNAL naming the proxy when merge throws', async () => {
    const thrown = new Error('boom');
    const merge = (): never => {
      throw thrown;
    };
    h.director = () => h.route({ responses: 'merge', merge });
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('x'));
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.INTERNAL,
      'grpc-proxy: fan-out merge failed: boom',
    ]);
    const report = await h.reported();
    expect([report.proxyError, report.error]).toEqual([true, thrown]);
  });
});
