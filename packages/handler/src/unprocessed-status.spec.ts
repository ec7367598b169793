/**
 * A canary: transparent retries rest on what grpc-js tells a raw call's listener when a backend
 * did not process it (`isUnprocessed` in ./local-status.ts). These calls go straight to real
 * servers, without the proxy, and fail if a grpc-js release stops saying it so.
 */
import * as http2 from 'node:http2';
import { Metadata, status, type Client, type StatusObject } from '@grpc/grpc-js';
import { isUnprocessed } from './local-status';
import { entries } from './test-support/grpc-fixtures';
import { grpcFrame } from './test-support/raw-h2-backend';
import { useRetryScene } from './test-support/retry-scene';
import { ECHO } from './test-support/test-backend';

interface RawOutcome {
  readonly headers: boolean;
  readonly status: StatusObject & { progress?: unknown; rstCode?: unknown };
}

/** One raw unary call on `client`'s channel, as the proxy makes them; resolves with its end. */
function rawCall(client: Client): Promise<RawOutcome> {
  return new Promise((resolve) => {
    let headers = false;
    const call = client.getChannel().createCall(`${ECHO}/Unary`, Infinity, undefined, null, 0xffff);
    call.start(new Metadata(), {
      onReceiveMetadata: () => (headers = true),
      onReceiveMessage: () => call.startRead(),
      onReceiveStatus: (final) => resolve({ headers, status: final }),
    });
    call.startRead();
    call.sendMessageWithContext({ callback: () => undefined }, Buffer.from('x'));
    call.halfClose();
  });
}

/** `outcome` is the refused stream grpc-js reports: what transparent retries rely on. */
function expectRefused(outcome: RawOutcome): void {
  const { code, details, metadata, progress, rstCode } = outcome.status;
  expect([outcome.headers, code, details, entries(metadata)]).toEqual([
    false,
    status.UNAVAILABLE,
    'Stream refused by server',
    {},
  ]);
  // grpc-js 1.11 hands its own markers on; 1.14's retry layer strips them.
  if (progress !== undefined) expect(progress).toBe('REFUSED');
  if (rstCode !== undefined) expect(rstCode).toBe(http2.constants.NGHTTP2_REFUSED_STREAM);
  expect(isUnprocessed(outcome.status, outcome.headers)).toBe(true);
}

describe('what grpc-js reports for an attempt no backend processed', () => {
  const scene = useRetryScene();

  it('a stream refused with RST_STREAM REFUSED_STREAM', async () => {
    const refusing = await scene.refusing();
    expectRefused(await rawCall(scene.clientOf(refusing.target)));
  });

  it("a stream beyond a GOAWAY's last stream id", async () => {
    const goingAway = await scene.goingAway();
    const client = scene.clientOf(goingAway.target);
    const first = await rawCall(client);
    expect([first.headers, first.status.code]).toEqual([true, status.OK]);
    expectRefused(await rawCall(client));
  });

  it('a target nothing listens on', async () => {
    const outcome = await rawCall(scene.clientOf('127.0.0.1:1'));
    expect([outcome.headers, outcome.status.code, entries(outcome.status.metadata)]).toEqual([
      false,
      status.UNAVAILABLE,
      {},
    ]);
    expect(outcome.status.details).toMatch(
      /^No connection established\. Last error: .*ECONNREFUSED/,
    );
    expect(isUnprocessed(outcome.status, false)).toBe(true);
  });

  it('but not a connection lost once the stream was accepted', async () => {
    const dying = await scene.raw((stream) => stream.session?.destroy());
    const outcome = await rawCall(scene.clientOf(dying.target));
    expect(outcome.headers).toBe(false);
    expect(isUnprocessed(outcome.status, false)).toBe(false);
  });

  it('nor a response that has begun', async () => {
    const answering = await scene.raw((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      stream.write(grpcFrame(Buffer.from('a')), () =>
        stream.close(http2.constants.NGHTTP2_REFUSED_STREAM),
      );
    });
    const outcome = await rawCall(scene.clientOf(answering.target));
    expect([outcome.headers, outcome.status.details]).toEqual([true, 'Stream refused by server']);
    expect(isUnprocessed(outcome.status, outcome.headers)).toBe(false);
  });
});

describe('isUnprocessed', () => {
  const local = (details: string, extra: object = {}): StatusObject => ({
    code: status.UNAVAILABLE,
    details,
    metadata: new Metadata(),
    ...extra,
  });

  it.each([
    ['Stream refused by server', {}, true],
    ['Write error: Stream closed with error code NGHTTP2_REFUSED_STREAM', {}, true],
    ['No connection established. Last error: connect ECONNREFUSED 127.0.0.1:1', {}, true],
    ['round_robin: No connection established. Last error: x', {}, true],
    ['Failed to start HTTP/2 stream with error The session has been destroyed', {}, true],
    ['anything', { progress: 'NOT_STARTED' }, true],
    ['anything', { progress: 'DROP' }, true],
    ['anything', { rstCode: http2.constants.NGHTTP2_REFUSED_STREAM }, true],
    ['Connection dropped', {}, false],
    ['Connection dropped', { progress: 'PROCESSED' }, false],
    ['Received RST_STREAM with code 2 (Internal server error)', {}, false],
    ['Write error: write EPIPE', {}, false],
    ['Deadline exceeded after 0.101s', {}, false],
    ['Stream refused by server, said the backend', {}, false],
  ])('%s %j: %s', (details, extra, expected) => {
    expect(isUnprocessed(local(details, extra), false)).toBe(expected);
  });

  it('is false after response headers, and for a status with trailers (the backend sent it)', () => {
    expect(isUnprocessed(local('Stream refused by server'), true)).toBe(false);
    const trailers = new Metadata();
    trailers.set('x-from', 'backend');
    const sent = {
      code: status.UNAVAILABLE,
      details: 'Stream refused by server',
      metadata: trailers,
    };
    expect(isUnprocessed(sent, false)).toBe(false);
  });
});
