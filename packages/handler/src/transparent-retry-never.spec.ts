import * as http2 from 'node:http2';
import { Metadata, status } from '@grpc/grpc-js';
import { callRawServerStream, callRawUnary, openRawBidi } from '@grpc-proxy/testing';
import type { ProxyCall } from './contracts';
import { ProxyStatusError } from './status-error';
import { eventually } from './test-support/grpc-fixtures';
import { respondWithMessage } from './test-support/raw-h2-backend';
import { refusedBy, useRetryScene, type NamedBackend } from './test-support/retry-scene';
import { ECHO } from './test-support/test-backend';

// The copy of grpc-js the suite runs against (the matrix script redirects the import).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const grpcJsVersion = (require('@grpc/grpc-js/package.json') as { version: string }).version;

/**
 * What grpc-js reports for a connection closed under a call: 1.13+ tells it from a reset stream
 * (UNAVAILABLE "Connection dropped"), earlier versions say CANCELLED "Call cancelled".
 */
function droppedStatus(port: number): [status, string] {
  const prefix = `grpc-proxy: backend dns:127.0.0.1:${port}`;
  return Number(grpcJsVersion.split('.')[1]) >= 13
    ? [status.UNAVAILABLE, `${prefix} unavailable: Connection dropped`]
    : [status.CANCELLED, `${prefix} failed: Call cancelled`];
}

describe('what is never retried', () => {
  const scene = useRetryScene();

  /** A proxy to `first`, then to a good backend; the latter must never see a call. */
  const proxyTo = (first: { target: string }) => scene.thenEcho('first', first.target);

  async function expectNotRetried(echo: { seen: unknown[] }, code: status, details: string) {
    await eventually(() => scene.reports.length === 1, 'observer heard the end');
    expect(scene.reports[0]).toMatchObject({ code, details, proxyError: true, retries: 0 });
    expect([scene.asks, echo.seen.length]).toEqual([1, 0]);
    expect(scene.releases).toEqual([['first', code, details]]);
  }

  it('a backend that accepted the stream and lost its connection before answering', async () => {
    const dying = await scene.raw((stream) => stream.session?.destroy());
    const { echo, client } = await proxyTo(dying);
    const outcome = await callRawUnary(client, `${ECHO}/Unary`, Buffer.from('x'));
    const [code, details] = droppedStatus(dying.port);
    expect([outcome.status.code, outcome.status.details]).toEqual([code, details]);
    expect(dying.streams).toBe(1);
    await expectNotRetried(echo, code, details);
  });

  it('a backend that died mid-response: the handler ran once', async () => {
    let backendStream: http2.ServerHttp2Stream | undefined;
    const dying = await scene.raw((stream) => {
      backendStream = stream;
      respondWithMessage(stream, Buffer.from('first'));
    });
    const { echo, client } = await proxyTo(dying);
    const session = openRawBidi(client, `${ECHO}/Bidi`);
    session.call.write(Buffer.from('request'));
    expect(await session.nextResponse()).toEqual(Buffer.from('first'));
    backendStream!.session!.destroy();
    const outcome = await session.outcome;
    const [code, details] = droppedStatus(dying.port);
    expect([outcome.status.code, outcome.status.details]).toEqual([code, details]);
    expect(dying.streams).toBe(1);
    await expectNotRetried(echo, code, details);
  });

  it.each([
    [
      'INTERNAL_ERROR',
      http2.constants.NGHTTP2_INTERNAL_ERROR,
      status.INTERNAL,
      'failed: Received RST_STREAM with code 2 (Internal server error)',
    ],
    ['CANCEL', http2.constants.NGHTTP2_CANCEL, status.CANCELLED, 'failed: Call cancelled'],
    [
      'ENHANCE_YOUR_CALM',
      http2.constants.NGHTTP2_ENHANCE_YOUR_CALM,
      status.RESOURCE_EXHAUSTED,
      'failed: Bandwidth exhausted or memory limit exceeded',
    ],
  ])('a stream reset with %s before any response', async (_name, rstCode, code, reason) => {
    const resetting = await scene.raw((stream) => stream.close(rstCode));
    const { echo, client } = await proxyTo(resetting);
    const outcome = await callRawUnary(client, `${ECHO}/Unary`, Buffer.from('x'));
    const details = `grpc-proxy: backend dns:127.0.0.1:${resetting.port} ${reason}`;
    expect([outcome.status.code, outcome.status.details]).toEqual([code, details]);
    await expectNotRetried(echo, code, details);
  });

  it("a backend's own UNAVAILABLE status", async () => {
    const failing = await scene.echo();
    const { echo, client } = await proxyTo(failing);
    const metadata = new Metadata();
    metadata.set('x-fail-code', String(status.UNAVAILABLE));
    metadata.set('x-send-headers', 'no');
    const outcome = await callRawUnary(client, `${ECHO}/Unary`, Buffer.from('x'), { metadata });
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.UNAVAILABLE,
      'failure 14: with spaces, ünïcode & %',
    ]);
    await eventually(() => scene.reports.length === 1, 'observer heard the end');
    expect(scene.reports[0]).toMatchObject({ proxyError: false, retries: 0 });
    expect([scene.asks, failing.seen.length, echo.seen.length]).toEqual([1, 1, 0]);
  });
});

describe('asking the director again', () => {
  const scene = useRetryScene();

  /** A proxy whose director gives the refusing backend first, then what `again` does. */
  async function refusedThen(
    again: (call: ProxyCall) => NamedBackend | Promise<NamedBackend>,
    directorTimeoutMs?: number,
  ) {
    const refusing = await scene.refusing();
    const first: NamedBackend = ['refusing', scene.clientOf(refusing.target)];
    const client = await scene.proxy((ask, call) => (ask === 0 ? first : again(call)), {
      directorTimeoutMs,
    });
    return { refusing, client, refused: refusedBy(refusing.port) };
  }

  /** A route the test gives later, and the call the director was asked for. */
  function pendingRoute() {
    const pending = {
      resolve: (_route: NamedBackend): void => undefined,
      call: undefined as ProxyCall | undefined,
    };
    const again = (call: ProxyCall) => {
      pending.call = call;
      return new Promise<NamedBackend>((resolve) => (pending.resolve = resolve));
    };
    return { pending, again };
  }

  it("gives the client the director's own status when it throws", async () => {
    const { refusing, client, refused } = await refusedThen(() => {
      throw new ProxyStatusError(status.UNAVAILABLE, 'no backend available: a, b');
    });
    const outcome = await callRawUnary(client, `${ECHO}/Unary`, Buffer.from('x'));
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.UNAVAILABLE,
      'no backend available: a, b',
    ]);
    await eventually(() => scene.reports.length === 1, 'observer heard the end');
    expect(scene.reports[0]).toMatchObject({
      proxyError: true,
      retries: 0,
      backend: `dns:${refusing.target}`,
    });
    expect(scene.asks).toBe(2);
    expect(scene.releases).toEqual([['refusing', status.UNAVAILABLE, refused]]);
  });

  it('applies directorTimeoutMs to the second answer, and releases a late route', async () => {
    const { pending, again } = pendingRoute();
    const { client, refused } = await refusedThen(again, 100);
    const echo = await scene.echo();
    const outcome = await callRawServerStream(client, `${ECHO}/ServerStream`, Buffer.from('x'));
    const timedOut = 'grpc-proxy: director chose no backend within 100 ms';
    expect([outcome.status.code, outcome.status.details]).toEqual([status.UNAVAILABLE, timedOut]);
    expect(pending.call?.signal.aborted).toBe(true);
    pending.resolve(['late', scene.clientOf(echo.target)]);
    await eventually(() => scene.releases.length === 2, 'late route released');
    expect(scene.releases).toEqual([
      ['refusing', status.UNAVAILABLE, refused],
      ['late', status.UNAVAILABLE, timedOut],
    ]);
    expect(echo.seen).toHaveLength(0);
  });

  it.each([
    ['its deadline passes', status.DEADLINE_EXCEEDED],
    ['the client cancels', status.CANCELLED],
  ])('ends the call when %s meanwhile, and releases a late route', async (_what, code) => {
    const { pending, again } = pendingRoute();
    const { client } = await refusedThen(again);
    const echo = await scene.echo();
    const deadline = code === status.DEADLINE_EXCEEDED ? Date.now() + 300 : Infinity;
    const session = openRawBidi(client, `${ECHO}/Bidi`, { options: { deadline } });
    session.call.write(Buffer.from('x'));
    await eventually(() => scene.asks === 2, 'the director was asked again');
    if (code === status.CANCELLED) session.call.cancel();
    expect((await session.outcome).status.code).toBe(code);
    await eventually(() => pending.call?.signal.aborted === true, 'director signal aborted');
    pending.resolve(['late', scene.clientOf(echo.target)]);
    await eventually(() => scene.releases.length === 2, 'late route released');
    expect(scene.releases.map(([label, releasedWith]) => [label, releasedWith])).toEqual([
      ['refusing', status.UNAVAILABLE],
      ['late', code],
    ]);
    expect(scene.reports[0]).toMatchObject({ code, proxyError: false, retries: 0 });
    expect(echo.seen).toHaveLength(0);
  });
});
