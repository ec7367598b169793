/**
 * Transparent retry: an attempt the backend refused before processing it (REFUSED_STREAM) is
 * released, the director is asked again, and the request kept so far goes to the new route's
 * backend, within the budget (each backend at most twice, 5 attempts); never once the backend
 * answered, after a connection lost with the request written, on another RST_STREAM code, nor
 * when more than the buffer was sent.
 */
import { constants, type ServerHttp2Stream } from 'node:http2';
import { status } from '@grpc/grpc-js';
import { MAX_CALL_ATTEMPTS, TRANSPARENT_RETRY_BUFFER_BYTES } from '@grpc-proxy/handler/engine';
import { callRawUnary, openRawBidi } from '@grpc-proxy/testing';
import { answerGrpc, answerWith, startRawBackend, type RawBackend } from './test-support/raw-h2';
import { useRoutedProxy, type RoutedProxy } from './test-support/routed-proxy';

const METHOD = '/acme.v1.Svc/Do';
const REFUSED = 'grpc-proxy: backend a unavailable: it reset the stream with REFUSED_STREAM (7)';
const LOST = 'grpc-proxy: backend a unavailable: the connection was closed';

/** Answers with its name once the client half-closed. */
function refuse(stream: ServerHttp2Stream): void {
  stream.close(constants.NGHTTP2_REFUSED_STREAM);
}

describe('transparent retry via the director', () => {
  const routed = useRoutedProxy();
  let backends: RawBackend[] = [];
  let run: RoutedProxy;

  afterEach(async () => {
    await Promise.all(backends.map((backend) => backend.close()));
    backends = [];
  });

  async function start(
    a: (stream: ServerHttp2Stream) => void,
    b: (stream: ServerHttp2Stream) => void = answerWith('b'),
  ): Promise<RawBackend[]> {
    backends = [await startRawBackend(a), await startRawBackend(b)];
    run = await routed.start({ a: backends[0].target, b: backends[1].target });
    return backends;
  }

  it('sends a call backend a refused to backend b: no call fails, one retry each', async () => {
    const [a, b] = await start(refuse);
    for (let call = 0; call < 4; call++) {
      const outcome = await callRawUnary(run.client, METHOD, Buffer.from('x'));
      expect([outcome.status.code, outcome.responses]).toEqual([status.OK, [Buffer.from('b')]]);
    }
    expect([a.streams.length, b.streams.length, run.asks.count]).toEqual([4, 4, 8]);
    const attempt = { backend: 'a', code: status.UNAVAILABLE, details: REFUSED };
    const done = { backend: 'b', code: status.OK, details: '' };
    expect(run.releases).toEqual([attempt, done, attempt, done, attempt, done, attempt, done]);
    expect(run.reports.map((report) => [report.retries, report.backend])).toEqual(
      Array.from({ length: 4 }, () => [1, 'b']),
    );
    // A refused stream says nothing about the connection: both stay in rotation.
    expect([run.a.isAvailable(), run.b.isAvailable(), run.health]).toEqual([true, true, []]);
  });

  it('tries each backend at most twice: a call both refuse ends after 4 attempts', async () => {
    const [a, b] = await start(refuse, refuse);
    const outcome = await callRawUnary(run.client, METHOD, Buffer.from('x'));
    const last = REFUSED.replace('backend a', 'backend b');
    expect([outcome.status.code, outcome.status.details]).toEqual([status.UNAVAILABLE, last]);
    // Four attempts, then the director is asked again for each route the budget refuses (a, b,
    // a... each tried twice already), MAX_CALL_ATTEMPTS times.
    expect([a.streams.length, b.streams.length, run.asks.count]).toEqual([
      2,
      2,
      4 + MAX_CALL_ATTEMPTS,
    ]);
    const [failedA, failedB] = [REFUSED, last].map((details) => ({
      code: status.UNAVAILABLE,
      details,
    }));
    // The routes the budget refuses are released with the call's status.
    expect(run.releases).toEqual([
      { backend: 'a', ...failedA },
      { backend: 'b', ...failedB },
      { backend: 'a', ...failedA },
      { backend: 'b', ...failedB },
      ...['a', 'b', 'a', 'b', 'a'].map((backend) => ({ backend, ...failedB })),
    ]);
    expect([run.reports[0].retries, run.reports[0].backend]).toEqual([3, 'b']);
  });

  it('replays the request bytes already sent when the refusal comes after them', async () => {
    let sawSecond: () => void = () => undefined;
    const second = new Promise<void>((resolve) => (sawSecond = resolve));
    const echo = (stream: ServerHttp2Stream): void => {
      sawSecond();
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => answerGrpc(stream, Buffer.concat(chunks).subarray(5)));
    };
    await start((stream) => {
      stream.on('data', () => refuse(stream));
    }, echo);
    const session = openRawBidi(run.client, METHOD);
    session.call.write(Buffer.from('first message'));
    await second; // the first message went to a's refused stream, then to b
    session.call.end();
    const outcome = await session.outcome;
    expect([outcome.status.code, outcome.responses]).toEqual([
      status.OK,
      [Buffer.from('first message')],
    ]);
    expect([run.asks.count, run.reports[0].retries]).toEqual([2, 1]);
  });

  it('gives up when more than the buffer was sent before the refusal', async () => {
    const [, b] = await start((stream) => {
      let received = 0;
      stream.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > TRANSPARENT_RETRY_BUFFER_BYTES) refuse(stream);
      });
    });
    const session = openRawBidi(run.client, METHOD);
    session.call.write(Buffer.alloc(TRANSPARENT_RETRY_BUFFER_BYTES + 1024));
    const outcome = await session.outcome;
    expect([outcome.status.code, outcome.status.details]).toEqual([status.UNAVAILABLE, REFUSED]);
    expect([run.asks.count, b.streams.length, run.reports[0].retries]).toEqual([1, 0, 0]);
    expect(run.releases).toEqual([{ backend: 'a', code: status.UNAVAILABLE, details: REFUSED }]);
  });

  it('does not retry a call whose backend died mid-response', async () => {
    const [a, b] = await start((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      stream.write(Buffer.from([0, 0, 0, 0, 1, 0x41]), () => stream.session?.destroy());
    });
    const session = openRawBidi(run.client, METHOD);
    const outcome = await session.outcome;
    expect([outcome.status.code, outcome.responses]).toEqual([
      status.UNAVAILABLE,
      [Buffer.from('A')],
    ]);
    expect(outcome.status.details).toBe(LOST);
    expect([a.streams.length, b.streams.length, run.asks.count]).toEqual([1, 0, 1]);
    expect(run.reports[0].retries).toBe(0);
  });

  it('does not retry a request whose connection was lost once it was written', async () => {
    const [a, b] = await start((stream) => {
      stream.on('data', () => stream.session?.destroy());
    });
    const outcome = await callRawUnary(run.client, METHOD, Buffer.from('x'));
    expect([outcome.status.code, outcome.status.details]).toEqual([status.UNAVAILABLE, LOST]);
    expect([a.streams.length, b.streams.length, run.asks.count]).toEqual([1, 0, 1]);
    // The connection itself had been made: a stays in rotation.
    expect([run.a.isAvailable(), run.reports[0].retries]).toEqual([true, 0]);
  });

  it('does not retry a stream reset with another code', async () => {
    const [, b] = await start((stream) => stream.close(constants.NGHTTP2_ENHANCE_YOUR_CALM));
    const outcome = await callRawUnary(run.client, METHOD, Buffer.from('x'));
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.RESOURCE_EXHAUSTED,
      'grpc-proxy: backend a failed: it reset the stream with ENHANCE_YOUR_CALM (11)',
    ]);
    expect([b.streams.length, run.asks.count, run.reports[0].retries]).toEqual([0, 1, 0]);
  });
});
