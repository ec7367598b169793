/**
 * Fan-out limits and lifecycle on the http2 engine: a client message over the receive limit ends
 * the call and cancels every backend; a backend message over the send limit fails that backend
 * alone; a merge over the send limit fails the call; the route is released once with the
 * client's status; closing the proxy ends a running fan-out and its backend calls.
 */
import { status, type StatusObject } from '@grpc/grpc-js';
import {
  EchoResponse,
  callBidi,
  callEcho,
  callServerStream,
  echoRequest,
  openBidi,
} from '@grpc-proxy/testing';
import { FAN_OUT_ENDED, fanOutRoute, useFanOutBench } from './test-support/fan-out-bench';
import { answerGrpc, startRawBackend } from './test-support/raw-h2';

describe('fan-out limits and lifecycle', () => {
  const t = useFanOutBench();

  it('a client message over the receive limit ends the call, every backend cancelled', async () => {
    await t.start({ maxReceiveMessageLength: 1000 });
    const session = openBidi(t.echo);
    session.call.write(echoRequest({ payload: Buffer.from('small'), holdUntilCancelled: true }));
    await Promise.all([1, 2, 3].map(() => session.nextResponse()));
    session.call.write(echoRequest({ payload: Buffer.alloc(2000) }));
    const outcome = await session.outcome;
    expect(outcome.status.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(outcome.status.details).toBe(
      'grpc-proxy: message from client is 2003 bytes, more than maxReceiveMessageLength (1000)',
    );
    for (const server of [t.a, t.b, t.c]) {
      const call = await server.waitForCancelled('Bidi');
      expect(call.requests).toHaveLength(1);
    }
    const [report] = await t.proxy.callEnds(1);
    expect(report.fanOut?.map((o) => [o.code, o.details, o.messages])).toEqual([
      [status.CANCELLED, FAN_OUT_ENDED, 1],
      [status.CANCELLED, FAN_OUT_ENDED, 1],
      [status.CANCELLED, FAN_OUT_ENDED, 1],
    ]);
  });

  it('a backend message over the send limit fails that backend alone (skip)', async () => {
    // `small` answers one small message once the client half-closed.
    const small = await startRawBackend((stream) => {
      stream.resume();
      const answer = EchoResponse.fromPartial({ serverName: 'small' });
      stream.on('end', () => answerGrpc(stream, EchoResponse.encode(answer).finish()));
    });
    t.closers.push(() => small.close());
    t.rules = { responses: 'stream', onError: 'skip' };
    t.members = [t.members[0], { name: 'small', target: small.target }];
    await t.start({ maxSendMessageLength: 1000 });
    const outcome = await callBidi(t.echo, [echoRequest({ payload: Buffer.alloc(1500, 1) })]);
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses.map((r) => r.serverName)).toEqual(['small']);
    const [report] = await t.proxy.callEnds(1);
    // 1519: the 1500-byte payload and the response's other fields.
    expect(report.fanOut).toEqual([
      {
        backend: 'a',
        code: status.RESOURCE_EXHAUSTED,
        details:
          'grpc-proxy: message from backend a is 1519 bytes, more than maxSendMessageLength (1000)',
        proxyError: true,
        messages: 0,
      },
      { backend: 'small', code: status.OK, details: '', proxyError: false, messages: 1 },
    ]);
  });

  it('a merge over the send limit fails the call RESOURCE_EXHAUSTED', async () => {
    // Three responses of 419 bytes (a 400-byte payload and the other fields): 1257 held.
    t.rules = { responses: 'merge' };
    await t.start({ maxSendMessageLength: 1000 });
    const outcome = await callEcho(t.echo, echoRequest({ payload: Buffer.alloc(400, 1) }));
    expect(outcome.status.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(outcome.status.details).toBe(
      'grpc-proxy: fan-out responses to merge are 1257 bytes, more than maxSendMessageLength (1000)',
    );
    const [report] = await t.proxy.callEnds(1);
    expect(report).toMatchObject({ messagesToClient: 0, proxyError: true });
  });

  it('releases the route once, with the status the client got', async () => {
    const released: StatusObject[] = [];
    await t.start({}, () => () => ({
      ...fanOutRoute(t),
      release: (final) => released.push(final),
    }));
    const request = echoRequest({ responseCount: 1, statusCode: status.NOT_FOUND });
    const outcome = await callServerStream(t.echo, request);
    expect(outcome.status.code).toBe(status.NOT_FOUND);
    await t.proxy.callEnds(1);
    expect(released.map((s) => s.code)).toEqual([status.NOT_FOUND]);
  });

  it('closing the proxy ends a running fan-out UNAVAILABLE and cancels its backend calls', async () => {
    await t.start();
    const session = openBidi(t.echo);
    session.call.write(echoRequest({ payload: Buffer.from('one'), holdUntilCancelled: true }));
    await Promise.all([1, 2, 3].map(() => session.nextResponse()));
    await t.proxy.proxy.close(0);
    const outcome = await session.outcome;
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.UNAVAILABLE,
      'grpc-proxy: shutting down',
    ]);
    for (const server of [t.a, t.b, t.c]) await server.waitForCancelled('Bidi');
    const [report] = await t.proxy.callEnds(1);
    expect(report.fanOut?.map((o) => o.code)).toEqual([
      status.CANCELLED,
      status.CANCELLED,
      status.CANCELLED,
    ]);
  });
});
