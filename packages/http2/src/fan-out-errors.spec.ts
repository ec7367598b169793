/**
 * Fan-out failures on the http2 engine: first-error (the failing backend's status and trailers
 * exactly, the others cancelled), skip, an `onError` function (in the stream and in the merge),
 * every backend failed, an unreachable and an out-of-rotation backend, the client's cancel and
 * the deadline cancelling every backend; each backend's outcome in `CallReport.fanOut`.
 */
import type { ServerHttp2Stream } from 'node:http2';
import { Metadata, status } from '@grpc/grpc-js';
import type { FanOutFailure } from '@grpc-proxy/handler';
import { ProxyStatusError } from '@grpc-proxy/handler';
import {
  EchoResponse,
  callEcho,
  callServerStream,
  echoRequest,
  refusedAddress,
  openBidi,
} from '@grpc-proxy/testing';
import { FAN_OUT_ENDED, cancelledLeg, useFanOutBench } from './test-support/fan-out-bench';
import { startHeldBackend } from './test-support/held-backend';
import { startRawBackend } from './test-support/raw-h2';

/** Answers `stream` trailers-only with `code`, `message` and an `x-why` trailer. */
function answerStatus(stream: ServerHttp2Stream, code: status, message: string): void {
  stream.respond(
    {
      ':status': 200,
      'content-type': 'application/grpc',
      'grpc-status': String(code),
      'grpc-message': encodeURI(message),
      'x-why': `why ${message}`,
    },
    { endStream: true },
  );
}

const echoOf = (serverName: string): Buffer =>
  Buffer.from(EchoResponse.encode(EchoResponse.fromPartial({ serverName })).finish());

describe('fan-out failures', () => {
  const t = useFanOutBench();

  /** Adds a raw backend failing every call at once with `code`/`message`, named `name`. */
  async function failing(name: string, code: status, message: string): Promise<void> {
    const raw = await startRawBackend((stream) => answerStatus(stream, code, message));
    t.closers.push(() => raw.close());
    t.members.push({ name, target: raw.target });
  }

  it('first-error: the failing backend status and trailers exactly, the others cancelled', async () => {
    const held = await startHeldBackend();
    t.closers.push(() => held.close());
    t.members = [t.members[0], t.members[1], { name: 'bad', target: held.target }];
    await t.start();
    const request = echoRequest({ responseCount: 1, holdUntilCancelled: true });
    const pending = callServerStream(t.echo, request);
    await t.a.waitForCall((c) => c.responses.length === 1);
    await t.b.waitForCall((c) => c.responses.length === 1);
    answerStatus(await held.stream(1), status.NOT_FOUND, 'shard gone');
    const outcome = await pending;
    expect(outcome.status.code).toBe(status.NOT_FOUND);
    expect(outcome.status.details).toBe('shard gone');
    expect(outcome.status.metadata.get('x-why')).toEqual(['why shard gone']);
    await t.a.waitForCancelled('ServerStream');
    await t.b.waitForCancelled('ServerStream');
    const [report] = await t.proxy.callEnds(1);
    expect(report).toMatchObject({ backend: 'fan', code: status.NOT_FOUND, proxyError: false });
    const bad = { code: status.NOT_FOUND, details: 'shard gone', proxyError: false, messages: 0 };
    expect(report.fanOut).toEqual([
      cancelledLeg('a', 1),
      cancelledLeg('b', 1),
      { backend: 'bad', ...bad },
    ]);
  });

  it('skip: a failed backend is left out, the call ends OK with the others', async () => {
    await failing('bad', status.INTERNAL, 'broken');
    t.rules = { responses: 'stream', onError: 'skip' };
    await t.start();
    const outcome = await callServerStream(t.echo, echoRequest({ responseCount: 2 }));
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses.map((r) => r.serverName).sort()).toEqual([
      'a',
      'a',
      'b',
      'b',
      'c',
      'c',
    ]);
    const [report] = await t.proxy.callEnds(1);
    expect(report.code).toBe(status.OK);
    expect(report.fanOut?.[3]).toEqual({
      backend: 'bad',
      code: status.INTERNAL,
      details: 'broken',
      proxyError: false,
      messages: 0,
    });
  });

  it('onError: a failure turned into a message, sent in the stream', async () => {
    await failing('bad', status.INTERNAL, 'broken');
    const seen: FanOutFailure[] = [];
    t.rules = {
      responses: 'stream',
      onError: (failure) => {
        seen.push(failure);
        const why = String(failure.metadata.get('x-why')[0]);
        return echoOf(`${failure.backend}#${failure.index}:${failure.code}:${why}`);
      },
    };
    await t.start();
    const outcome = await callServerStream(t.echo, echoRequest({ responseCount: 1 }));
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses.map((r) => r.serverName).sort()).toEqual([
      'a',
      'b',
      `bad#3:${status.INTERNAL}:why broken`,
      'c',
    ]);
    expect(seen.map((f) => [f.backend, f.details])).toEqual([['bad', 'broken']]);
    const [report] = await t.proxy.callEnds(1);
    expect(report.messagesToClient).toBe(4);
  });

  it('onError in a merge: the message takes the failed backend place', async () => {
    await failing('bad', status.INTERNAL, 'broken');
    t.members = [t.members[0], t.members[3]];
    t.rules = { responses: 'merge', onError: (failure) => echoOf(`for ${failure.backend}`) };
    await t.start();
    const outcome = await callEcho(t.echo, echoRequest({ payload: Buffer.from('p') }));
    expect(outcome.status.code).toBe(status.OK);
    // Concatenation: the last message's scalar wins, and the failed backend is last.
    expect(outcome.responses.map((r) => [r.serverName, r.payload.toString()])).toEqual([
      ['for bad', 'p'],
    ]);
  });

  it('onError throwing a status error ends the call with exactly that status', async () => {
    await failing('bad', status.INTERNAL, 'broken');
    t.rules = {
      responses: 'stream',
      onError: () => {
        throw new ProxyStatusError(status.ABORTED, 'stop the fan-out', new Metadata());
      },
    };
    await t.start();
    const outcome = await callServerStream(t.echo, echoRequest({ responseCount: 1 }));
    expect(outcome.status.code).toBe(status.ABORTED);
    expect(outcome.status.details).toBe('stop the fan-out');
  });

  it('every backend failed: the call ends with the first failure', async () => {
    const first = await startRawBackend((stream) => answerStatus(stream, status.INTERNAL, 'first'));
    const held = await startHeldBackend();
    t.closers.push(
      () => first.close(),
      () => held.close(),
    );
    let firstSeen!: () => void;
    const firstFailed = new Promise<void>((resolve) => (firstSeen = resolve));
    t.members = [
      { name: 'late', target: held.target },
      { name: 'first', target: first.target },
    ];
    t.rules = {
      responses: 'merge',
      onError: (failure) => {
        if (failure.backend === 'first') firstSeen();
        return null;
      },
    };
    await t.start();
    const pending = callEcho(t.echo, echoRequest());
    await firstFailed;
    answerStatus(await held.stream(1), status.UNAVAILABLE, 'second');
    const outcome = await pending;
    expect(outcome.status.code).toBe(status.INTERNAL);
    expect(outcome.status.details).toBe('first');
    expect(outcome.status.metadata.get('x-why')).toEqual(['why first']);
    const [report] = await t.proxy.callEnds(1);
    expect(report.fanOut?.map((o) => [o.backend, o.code, o.details])).toEqual([
      ['late', status.UNAVAILABLE, 'second'],
      ['first', status.INTERNAL, 'first'],
    ]);
  });

  it('a backend that refuses connections fails its leg UNAVAILABLE, naming it', async () => {
    t.members.push({ name: 'gone', target: await refusedAddress() });
    t.rules = { responses: 'merge', onError: 'skip' };
    await t.start();
    const outcome = await callEcho(t.echo, echoRequest({ payload: Buffer.from('p') }));
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses.map((r) => r.serverName)).toEqual(['c']);
    const [report] = await t.proxy.callEnds(1);
    const gone = report.fanOut![3];
    expect(gone).toMatchObject({ backend: 'gone', code: status.UNAVAILABLE, proxyError: true });
    expect(gone.details).toMatch(/^grpc-proxy: backend gone unavailable: .*ECONNREFUSED/);
  });

  it('a backend out of rotation fails at once; first-error ends the call with it', async () => {
    t.members = [
      t.members[0],
      {
        name: 'down',
        target: '127.0.0.1:1',
        isAvailable: () => false,
        connectionError: new Error('it is down'),
        client: () => {
          throw new Error('not for the http2 engine');
        },
      },
    ];
    await t.start();
    const outcome = await callEcho(t.echo, echoRequest());
    expect(outcome.status.code).toBe(status.UNAVAILABLE);
    expect(outcome.status.details).toBe('grpc-proxy: backend down unavailable: it is down');
    const [report] = await t.proxy.callEnds(1);
    expect(report).toMatchObject({ code: status.UNAVAILABLE, proxyError: true });
    expect(report.fanOut).toEqual([
      cancelledLeg('a', 0),
      {
        backend: 'down',
        code: status.UNAVAILABLE,
        details: 'grpc-proxy: backend down unavailable: it is down',
        proxyError: true,
        messages: 0,
      },
    ]);
  });

  it("the client's cancel cancels every backend call", async () => {
    await t.start();
    const session = openBidi(t.echo);
    session.call.write(echoRequest({ payload: Buffer.from('one'), holdUntilCancelled: true }));
    const first = await Promise.all([1, 2, 3].map(() => session.nextResponse()));
    expect(first.map((r) => r.serverName).sort()).toEqual(['a', 'b', 'c']);
    session.call.cancel();
    expect((await session.outcome).status.code).toBe(status.CANCELLED);
    for (const server of [t.a, t.b, t.c]) {
      const call = await server.waitForCancelled('Bidi');
      expect(call.requests).toHaveLength(1);
    }
    const [report] = await t.proxy.callEnds(1);
    expect(report.code).toBe(status.CANCELLED);
    expect(report.fanOut).toEqual([
      cancelledLeg('a', 1),
      cancelledLeg('b', 1),
      cancelledLeg('c', 1),
    ]);
  });

  it('the deadline ends the call DEADLINE_EXCEEDED and every backend call', async () => {
    await t.start();
    const request = echoRequest({ responseCount: 1, holdUntilCancelled: true });
    const deadline = new Date(Date.now() + 500);
    const outcome = await callServerStream(t.echo, request, { options: { deadline } });
    expect(outcome.status.code).toBe(status.DEADLINE_EXCEEDED);
    for (const server of [t.a, t.b, t.c]) {
      const call = await server.waitForCall((c) => c.ended);
      expect(call.cancelled || call.deadlineExceeded).toBe(true);
      expect(call.deadlineRemainingMs).toBeLessThanOrEqual(500);
    }
    const [report] = await t.proxy.callEnds(1);
    expect(report.code).toBe(status.DEADLINE_EXCEEDED);
    expect(report.fanOut?.map((o) => [o.code, o.details, o.messages])).toEqual([
      [status.CANCELLED, FAN_OUT_ENDED, 1],
      [status.CANCELLED, FAN_OUT_ENDED, 1],
      [status.CANCELLED, FAN_OUT_ENDED, 1],
    ]);
  });
});
