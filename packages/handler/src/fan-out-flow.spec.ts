import { once } from 'node:events';
import { status, type StatusObject } from '@grpc/grpc-js';
import { callRawBidi, callRawServerStream, callRawUnary, openRawBidi } from '@grpc-proxy/testing';
import { createBackendClient } from './backend-client';
import { startMirrorBackend } from './test-support/mirror-backend';
import { useFanOutScene, whenStalled } from './test-support/fan-out-scene';
import { eventually, raw } from './test-support/grpc-fixtures';
import { ECHO } from './test-support/test-backend';

const ENDED_BEFORE = 'grpc-proxy: fan-out call ended before this backend';
const cancelledOutcome = { code: status.CANCELLED, details: ENDED_BEFORE, proxyError: true };

describe('fan-out flow (grpc-js engine)', () => {
  const h = useFanOutScene();
  const everyLegCancelled = () =>
    eventually(() => h.legs.every((leg) => leg.calls[0]?.cancelled), 'every backend cancelled');

  it('cancels every backend call when the client cancels', async () => {
    for (const leg of h.legs) leg.mode = 'hang';
    const session = openRawBidi(h.client, `${ECHO}/Bidi`);
    session.call.write(Buffer.from('m'));
    await eventually(() => h.legs.every((leg) => leg.calls[0]?.messages.length === 1), 'm sent');
    session.call.cancel();
    expect((await session.outcome).status.code).toBe(status.CANCELLED);
    await everyLegCancelled();
    const report = await h.reported();
    expect([report.code, report.details]).toEqual([status.CANCELLED, 'Cancelled by client']);
    expect(report.fanOut).toEqual(
      h.names().map((backend) => ({ backend, ...cancelledOutcome, messages: 0 })),
    );
    expect(h.releases.map((final) => final.code)).toEqual([status.CANCELLED]);
  });

  it("ends at the client's deadline and cancels every backend call", async () => {
    for (const leg of h.legs) leg.mode = 'hang';
    const outcome = await callRawServerStream(h.client, `${ECHO}/ServerStream`, Buffer.from('q'), {
      options: { deadline: Date.now() + 500 },
    });
    expect(outcome.status.code).toBe(status.DEADLINE_EXCEEDED);
    await everyLegCancelled();
    const report = await h.reported();
    expect(report.code).toBe(status.DEADLINE_EXCEEDED);
    // The legs carry the deadline too: one may end on its own timer before the call does.
    for (const leg of report.fanOut ?? []) {
      expect([status.CANCELLED, status.DEADLINE_EXCEEDED]).toContain(leg.code);
    }
    expect(report.fanOut).toHaveLength(3);
    expect(h.releases.map((final) => final.code)).toEqual([status.DEADLINE_EXCEEDED]);
  });

  /** Writes up to `total` 64 KiB messages as fast as the call accepts them; `accepted()` so far. */
  function flood(total: number) {
    const message = Buffer.alloc(64 * 1024, 7);
    const session = openRawBidi(h.client, `${ECHO}/Bidi`);
    let accepted = 0;
    const writeMore = (): void => {
      while (accepted < total) {
        accepted++;
        if (!session.call.write(message)) return;
      }
      session.call.end();
    };
    session.call.on('drain', writeMore);
    writeMore();
    return { session, accepted: () => accepted };
  }

  it('holds the client back while one backend does not read: the others get no more than it took', async () => {
    h.legs[0].mode = 'hang';
    h.legs[1].mode = 'never-read';
    h.legs[2].mode = 'hang';
    const { session, accepted } = flood(200);
    // Measured: 32 writes accepted (2 MiB: the client's, the proxy's and one backend window of
    // buffers), the reading backends got 2 messages each; without backpressure all 200.
    const stalled = await whenStalled(accepted, 80);
    expect(stalled).toBeLessThanOrEqual(80);
    expect(stalled).toBeGreaterThan(16);
    const [a, , c] = h.legs.map((leg) => leg.calls[0]?.messages.length ?? 0);
    expect([a <= 4, c <= 4, a === c]).toEqual([true, true, true]);
    session.call.cancel();
    await session.outcome;
    await everyLegCancelled();
    const report = await h.reported();
    expect([report.code, report.messagesFromClient]).toEqual([status.CANCELLED, a]);
  });

  it('lets the client write at full speed when every backend reads', async () => {
    for (const leg of h.legs) leg.mode = 'hang';
    const { session, accepted } = flood(200);
    await eventually(() => h.legs.every((leg) => leg.calls[0]?.halfClosed), 'all 200 sent');
    expect([accepted(), ...h.legs.map((leg) => leg.calls[0].messages.length)]).toEqual([
      200, 200, 200, 200,
    ]);
    // The backends never end: the client leaves.
    session.call.cancel();
    await everyLegCancelled();
    expect((await h.reported()).messagesFromClient).toBe(200);
  });

  it('holds every backend back while the client does not read, then delivers every message in order', async () => {
    for (const leg of h.legs) {
      leg.count = 2000;
      leg.pad = 1024;
    }
    const method = `${ECHO}/ServerStream`;
    const call = h.client.makeServerStreamRequest(method, raw, raw, Buffer.from('q'));
    const ended = once(call, 'status') as Promise<[StatusObject]>;
    const got: string[] = [];
    call.on('data', (message: Buffer) =>
      got.push(message.subarray(0, message.indexOf(0)).toString()),
    );
    call.pause();
    const written = (): number => h.legs.reduce((sum, leg) => sum + leg.written, 0);
    // Measured: 416 of the 6 000 (1 KiB each) written while the client read nothing (each
    // backend's window and buffers, and one proxy-to-client window shared by the three).
    const stalled = await whenStalled(written, 800);
    expect(stalled).toBeLessThanOrEqual(800);
    expect(h.legs.every((leg) => leg.written > 16)).toBe(true);
    call.resume();
    const [final] = await ended;
    expect([final.code, got.length]).toEqual([status.OK, 6000]);
    for (const id of ['a', 'b', 'c']) {
      const expected = Array.from({ length: 2000 }, (_, i) => `${id}-${i}`);
      expect(got.filter((text) => text.startsWith(id))).toEqual(expected);
    }
  });

  it('peek: the first message the director read goes to every backend, first', async () => {
    const peeked: (Buffer | null)[] = [];
    h.director = async (call) => {
      peeked.push(await call.firstMessage());
      return h.route({ responses: 'stream' });
    };
    const sent = ['p1', 'p2', 'p3'].map((s) => Buffer.from(s));
    const session = openRawBidi(h.client, `${ECHO}/Bidi`);
    for (const message of sent) session.call.write(message);
    session.call.end();
    const outcome = await session.outcome;
    expect([outcome.status.code, outcome.responses.length]).toEqual([status.OK, 9]);
    expect(peeked).toEqual([Buffer.from('p1')]);
    for (const leg of h.legs) expect(leg.calls[0].messages).toEqual(sent);
    const report = await h.reported();
    expect([report.messagesFromClient, report.messagesToClient]).toEqual([3, 9]);
  });

  it('peek on a unary merge: the peeked request reaches every backend', async () => {
    h.director = async (call) => {
      await call.firstMessage();
      return h.route({ responses: 'merge' });
    };
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('x'));
    expect([outcome.status.code, outcome.responses.map(String)]).toEqual([
      status.OK,
      ['a:xb:xc:x'],
    ]);
  });

  it('mirror: a fan-out route is copied once to its mirror', async () => {
    const mirror = await startMirrorBackend();
    const mirrorClient = createBackendClient(mirror.target);
    try {
      h.director = () => h.route({ responses: 'stream' }, { mirror: { backend: mirrorClient } });
      const sent = ['1', '2'].map((s) => Buffer.from(s));
      const outcome = await callRawBidi(h.client, `${ECHO}/Bidi`, sent);
      expect([outcome.status.code, outcome.responses.length]).toEqual([status.OK, 6]);
      for (const leg of h.legs) expect(leg.calls[0].messages).toEqual(sent);
      await eventually(() => h.mirrorReports.length === 1, 'the copy reported');
      expect(h.mirrorReports).toEqual([
        {
          method: `${ECHO}/Bidi`,
          backend: `dns:${mirror.target}`,
          outcome: 'completed',
          code: status.OK,
          details: 'OK',
        },
      ]);
      expect(mirror.calls).toHaveLength(1);
      const [copy] = mirror.calls;
      expect([copy.messages, copy.halfClosed, copy.metadata.get('x-grpc-proxy-mirror')]).toEqual([
        sent,
        true,
        ['1'],
      ]);
      expect(h.legs[0].calls[0].metadata.get('x-grpc-proxy-mirror')).toEqual([]);
    } finally {
      mirrorClient.close();
      await mirror.close();
    }
  });
});

describe('fan-out limits (grpc-js engine)', () => {
  const h = useFanOutScene({ maxReceiveMessageLength: 8, maxSendMessageLength: 8 });

  it('ends the call RESOURCE_EXHAUSTED on a client message over the limit; every backend cancelled', async () => {
    for (const leg of h.legs) leg.mode = 'hang';
    const session = openRawBidi(h.client, `${ECHO}/Bidi`);
    session.call.write(Buffer.from('m'));
    await eventually(() => h.legs.every((leg) => leg.calls[0]?.messages.length === 1), 'm sent');
    session.call.write(Buffer.alloc(9));
    const outcome = await session.outcome;
    expect(outcome.status.code).toBe(status.RESOURCE_EXHAUSTED);
    await eventually(() => h.legs.every((leg) => leg.calls[0].cancelled), 'backends cancelled');
    const report = await h.reported();
    expect(report.fanOut?.map((leg) => [leg.code, leg.details])).toEqual(
      Array(3).fill([status.CANCELLED, ENDED_BEFORE]),
    );
  });

  it('fails a backend whose message is over maxSendMessageLength alone (skip: the others answer)', async () => {
    h.director = () => h.route({ responses: 'stream', onError: 'skip' });
    h.legs[0].pad = 20;
    const outcome = await callRawServerStream(h.client, `${ECHO}/ServerStream`, Buffer.from('q'));
    expect([outcome.status.code, outcome.status.details]).toEqual([status.OK, 'OK']);
    expect(outcome.responses.map((m) => m.toString()).sort()).toEqual([
      'b-0',
      'b-1',
      'b-2',
      'c-0',
      'c-1',
      'c-2',
    ]);
    const report = await h.reported();
    expect(report.fanOut?.[0]).toEqual({
      backend: h.names()[0],
      code: status.RESOURCE_EXHAUSTED,
      details: `grpc-proxy: message from backend ${h.names()[0]} is 23 bytes, more than maxSendMessageLength (8)`,
      proxyError: true,
      messages: 0,
    });
    expect(report.fanOut?.slice(1).map((leg) => [leg.code, leg.messages])).toEqual([
      [status.OK, 3],
      [status.OK, 3],
    ]);
  });

  it('ends a merge over maxSendMessageLength RESOURCE_EXHAUSTED naming the proxy', async () => {
    h.director = () => h.route({ responses: 'merge' });
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('x'));
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.RESOURCE_EXHAUSTED,
      expect.stringMatching(
        /^grpc-proxy: fan-out responses to merge are \d+ bytes, more than maxSendMessageLength \(8\)$/,
      ),
    ]);
  });
});
