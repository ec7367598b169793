/**
 * Fan-out backpressure on the http2 engine: a backend that does not read holds the client back
 * (the next client message is read only once every backend took the last one), and a client that
 * does not read holds every backend back (`'stream'`); in both cases after a bounded number of
 * messages, and everything arrives once the reader reads again.
 */
import type { ServerHttp2Stream } from 'node:http2';
import { status, type ClientReadableStream } from '@grpc/grpc-js';
import { MessageDecoder } from '@grpc-proxy/codec';
import { EchoResponse, echoRequest } from '@grpc-proxy/testing';
import { useFanOutBench } from './test-support/fan-out-bench';
import { once } from './test-support/held-backend';
import { answerGrpc, startRawBackend } from './test-support/raw-h2';

const SIZE = 16_384;
const TOTAL = 200; // 3.2 MiB each way: far past every window and buffer on the way

/**
 * Resolves once `count()` is above 0 and has not changed for `quietMs` (the writer is held
 * back), or as soon as it exceeds `limit`; bounded in time.
 */
async function whenStalled(count: () => number, limit: number, quietMs = 300): Promise<number> {
  let last = 0;
  let since = Date.now();
  for (let i = 0; i < 2000; i++) {
    const now = count();
    if (now > limit) return now;
    if (now !== last || now === 0) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return now;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('the writer never stalled');
}

describe('fan-out backpressure', () => {
  const t = useFanOutBench();

  it('a backend that does not read holds the client back, within a bound', async () => {
    // Reads nothing until told; then reads every message and answers how many it got.
    let stuckStream: ServerHttp2Stream | undefined;
    const stuck = await startRawBackend((stream) => {
      stuckStream = stream;
      stream.pause();
    });
    t.closers.push(() => stuck.close());
    t.members = [t.members[0], { name: 'stuck', target: stuck.target }];
    t.rules = { responses: 'merge' };
    await t.start();
    let accepted = 0;
    let response: EchoResponse | undefined;
    const call = t.echo.clientStream((error, value) => {
      if (error === null) response = value;
    });
    const ended = once<{ code: status }>(call, 'status');
    const writing = (async () => {
      for (let i = 0; i < TOTAL; i++) {
        accepted++;
        if (!call.write(echoRequest({ payload: Buffer.alloc(SIZE, i) }))) await once(call, 'drain');
      }
      call.end();
    })();
    const held = await whenStalled(() => accepted, TOTAL - 1);
    const reachedA = t.a.calls[0]?.requests.length ?? 0;
    // Measured: 64 messages accepted by the client (1 MiB: grpc-js's own buffers and the
    // proxy's receive window, as without a fan-out), 7 taken by `a`: what the stuck backend's
    // window and stream buffer took (the proxy reads the client no further). 200 were written.
    expect(held).toBeLessThanOrEqual(100);
    expect(reachedA).toBeLessThanOrEqual(12);
    const decoder = new MessageDecoder();
    let got = 0;
    stuckStream!.on('data', (chunk: Buffer) => (got += decoder.push(chunk).length));
    stuckStream!.on('end', () => {
      const answer = EchoResponse.fromPartial({ serverName: 'stuck', requestCount: got });
      answerGrpc(stuckStream!, EchoResponse.encode(answer).finish());
    });
    stuckStream!.resume();
    await writing;
    expect((await ended).code).toBe(status.OK);
    expect(got).toBe(TOTAL);
    expect(t.a.calls[0].requests).toHaveLength(TOTAL);
    // The merge: `a`'s response, then the stuck backend's (its scalars win).
    expect(response).toMatchObject({ serverName: 'stuck', requestCount: TOTAL });
  });

  it("'stream': a client that does not read holds every backend back, within a bound", async () => {
    t.members = t.members.slice(0, 2);
    await t.start();
    const request = echoRequest({ responseCount: TOTAL, responseSize: SIZE });
    const call: ClientReadableStream<EchoResponse> = t.echo.serverStream(request);
    const ended = once<{ code: status }>(call, 'status');
    let received = 0;
    call.on('data', () => received++);
    call.pause(); // grpc-js bounds its own buffer only once reading started
    const written = (): number => t.a.calls[0]?.responses.length + t.b.calls[0]?.responses.length;
    const held = await whenStalled(() => written() || 0, 2 * TOTAL - 1);
    // Measured: 48 of the 400 responses written while the client read none (the legs' windows
    // and buffers, and the client's).
    expect(held).toBeLessThanOrEqual(100);
    call.resume();
    expect((await ended).code).toBe(status.OK);
    expect(received).toBe(2 * TOTAL);
    const [report] = await t.proxy.callEnds(1);
    expect(report.fanOut?.map((o) => o.messages)).toEqual([TOTAL, TOTAL]);
  });
});
