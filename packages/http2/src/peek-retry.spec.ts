/**
 * Peek and the rest of the call's life on the http2 engine: a peeked message is part of the
 * transparent-retry hold (rule 12), `firstMessage()` asked once the route is chosen is refused,
 * and peeking calls of every kind and outcome leave nothing behind.
 */
import { constants, type ServerHttp2Stream } from 'node:http2';
import { Client, credentials, status } from '@grpc/grpc-js';
import { encodeMessage } from '@grpc-proxy/codec';
import { ProxyStatusError, type CallReport, type ProxyCall } from '@grpc-proxy/handler';
import {
  MIXED_CALL_CODES,
  MIXED_CALL_KIND_KEY,
  callBidi,
  callEcho,
  callRawUnary,
  echoRequest,
  mixedCallKind,
  openBidi,
  runMixedCall,
} from '@grpc-proxy/testing';
import { useHarness } from './test-support/harness';
import { startHttp2Proxy } from './test-support/proxy';
import { recordBodies, startRawBackend } from './test-support/raw-h2';
import { settledTimers, timers } from './test-support/timers';
import { onServerStreams } from './test-support/server-streams';

const LATE = 'grpc-proxy: firstMessage() was called after the route was chosen';

describe('a peeked message and transparent retry', () => {
  let closers: Array<() => unknown> = [];

  afterEach(async () => {
    for (const close of closers) await close();
    closers = [];
  });

  it('sends the peeked message again to the next backend when the first refused the stream', async () => {
    const refusing = await startRawBackend((stream: ServerHttp2Stream) =>
      stream.close(constants.NGHTTP2_REFUSED_STREAM),
    );
    const bodies: Buffer[] = [];
    const answering = await startRawBackend(recordBodies(bodies, Buffer.from('b')));
    const peeked: Array<Buffer | null> = [];
    const reports: CallReport[] = [];
    const proxy = await startHttp2Proxy(
      async (call) => {
        peeked.push(await call.firstMessage());
        const backend = peeked.length === 1 ? refusing : answering;
        return { backend: { name: String(peeked.length), target: backend.target } };
      },
      { observer: { onCallEnd: (report) => reports.push(report) } },
    );
    const client = new Client(proxy.address, credentials.createInsecure());
    closers.push(
      () => client.close(),
      () => proxy.close(),
      () => refusing.close(),
      () => answering.close(),
    );
    const payload = Buffer.from('tenant-7');
    const outcome = await callRawUnary(client, '/acme.v1.Svc/Do', payload);
    expect([outcome.status.code, outcome.responses]).toEqual([status.OK, [Buffer.from('b')]]);
    // Asked twice, the same message both times (read once); the second backend got it whole.
    expect(peeked).toEqual([payload, payload]);
    expect(peeked[0]).toBe(peeked[1]);
    expect(bodies).toEqual([encodeMessage(payload)]);
    expect([refusing.streams.length, reports.length]).toEqual([1, 1]);
    expect([reports[0].retries, reports[0].backend, reports[0].messagesFromClient]).toEqual([
      1,
      '2',
      1,
    ]);
  });
});

describe('peek after the route, and leaks', () => {
  const h = useHarness();

  it('refuses firstMessage() once the route is chosen, with FAILED_PRECONDITION', async () => {
    const calls: ProxyCall[] = [];
    h.director = (call) => {
      calls.push(call);
      return h.route();
    };
    const outcome = await callBidi(h.echo, [echoRequest(), echoRequest()]);
    expect(outcome.status.code).toBe(status.OK);
    const error = (await calls[0].firstMessage().catch((e: unknown) => e)) as ProxyStatusError;
    expect(error).toBeInstanceOf(ProxyStatusError);
    expect([error.code, error.details]).toEqual([status.FAILED_PRECONDITION, LATE]);
    // Asked again: the same answer (read once).
    await expect(calls[0].firstMessage()).rejects.toBe(error);
    const [report] = await h.reported(1);
    expect([report.code, report.messagesFromClient]).toEqual([status.OK, 2]);
  });

  it('rejects a peek the director did not wait for once the backend stream opens; the call goes on', async () => {
    // Wrapped: a promise resolved with a promise would take on its rejection.
    type Asked = { peek: Promise<Buffer | null> };
    let asked: (value: Asked) => void = () => undefined;
    const peeking = new Promise<Asked>((resolve) => (asked = resolve));
    h.director = (call) => {
      asked({ peek: call.firstMessage() });
      return h.route();
    };
    const session = openBidi(h.echo);
    const { peek } = await peeking;
    const error = (await peek.catch((e: unknown) => e)) as ProxyStatusError;
    expect([error.code, error.details]).toEqual([
      status.FAILED_PRECONDITION,
      'grpc-proxy: the route was chosen before the first message came',
    ]);
    session.call.write(echoRequest({ payload: Buffer.from('late') }));
    expect((await session.nextResponse()).payload).toEqual(Buffer.from('late'));
    session.call.end();
    expect((await session.outcome).status.code).toBe(status.OK);
  });

  it('leaves nothing after peeking calls of every kind and outcome', async () => {
    const CALLS = 60;
    let routes = 0;
    let settled = 0;
    h.director = async (call) => {
      try {
        await call.firstMessage();
      } finally {
        settled++;
      }
      if (call.metadata.get(MIXED_CALL_KIND_KEY)[0] === 'director-error') {
        throw new ProxyStatusError(status.FAILED_PRECONDITION, 'rejected');
      }
      routes++;
      return h.route();
    };
    await callEcho(h.echo, echoRequest()); // connections up
    await h.reported(1);
    const timersBefore = timers();
    // The proxy's own client streams: each must end destroyed (a stream a peek left paused
    // would stay open, and keep the proxy from closing).
    const port = Number(h.proxy.address.split(':')[1]);
    const streams: ServerHttp2Stream[] = [];
    const stopTap = onServerStreams((stream) => {
      if (stream.session?.socket.localPort === port) streams.push(stream);
    });
    const indexes = Array.from({ length: CALLS }, (_, i) => i);
    const codes = await Promise.all(indexes.map((index) => runMixedCall(h.echo, index)));
    expect(codes).toEqual(indexes.map((index) => MIXED_CALL_CODES[mixedCallKind(index)]));
    const reports = await h.reported(h.started.count);
    expect(reports).toHaveLength(h.started.count);
    // Every director asked got its answer or rejection (none hangs).
    expect(settled).toBe(h.started.count);
    expect(h.releases).toHaveLength(routes);
    expect(h.proxy.proxy.activeCalls).toBe(0);
    expect(await settledTimers(timersBefore + 10)).toBeLessThan(timersBefore + 10);
    stopTap();
    for (let polls = 0; polls < 500 && streams.some((st) => !st.destroyed); polls++) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect([streams.length, streams.filter((st) => !st.destroyed).length]).toEqual([CALLS, 0]);
  });

  it('a director that peeks then refuses the call leaves no stream behind', async () => {
    h.director = async (call) => {
      await call.firstMessage();
      throw new ProxyStatusError(status.PERMISSION_DENIED, 'not this tenant');
    };
    const streams: ServerHttp2Stream[] = [];
    const stopTap = onServerStreams((stream) => streams.push(stream));
    const outcome = await callBidi(h.echo, [echoRequest(), echoRequest(), echoRequest()]);
    stopTap();
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.PERMISSION_DENIED,
      'not this tenant',
    ]);
    expect(streams).toHaveLength(1); // the proxy's: the backend never saw the call
    for (let polls = 0; polls < 500 && !streams[0].destroyed; polls++) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect([streams[0].destroyed, h.backend.calls.length]).toEqual([true, 0]);
  });
});
