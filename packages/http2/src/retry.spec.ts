/**
 * Transparent retry: a stream the backend refused before processing it is sent again, request
 * bytes included, on a session that takes it; never once the backend answered, nor when the
 * request was too large to keep. (A stream beyond a GOAWAY's last stream is closed by nghttp2
 * with the same REFUSED_STREAM code; that race cannot be staged deterministically here.)
 */
import { constants, type ServerHttp2Stream } from 'node:http2';
import { status, type Client } from '@grpc/grpc-js';
import { callRawUnary, openRawBidi } from '@grpc-proxy/testing';
import { REPLAY_LIMIT_BYTES } from './replay';
import { answerGrpc } from './test-support/raw-h2';
import { useRawProxy } from './test-support/raw-proxy';

const METHOD = '/acme.v1.Svc/Do';

describe('transparent retry of refused streams', () => {
  const raw = useRawProxy();
  let client: Client;
  let streams: number;

  async function start(refuse: (stream: ServerHttp2Stream, index: number) => boolean) {
    streams = 0;
    ({ client } = await raw.start((stream) => {
      const index = streams++;
      if (refuse(stream, index)) return;
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      // The request body it received, as one message.
      stream.on('end', () => answerGrpc(stream, Buffer.concat(chunks).subarray(5)));
    }));
  }

  it('sends a request the backend refused with REFUSED_STREAM again, and it succeeds', async () => {
    await start((stream, index) => {
      if (index === 0) stream.close(constants.NGHTTP2_REFUSED_STREAM);
      return index === 0;
    });
    const outcome = await callRawUnary(client, METHOD, Buffer.from('again'));
    expect([outcome.status.code, outcome.responses]).toEqual([status.OK, [Buffer.from('again')]]);
    expect(streams).toBe(2);
  });

  it('replays the request bytes already sent when the refusal comes after them', async () => {
    let retried: () => void = () => undefined;
    const secondStream = new Promise<void>((resolve) => (retried = resolve));
    await start((stream, index) => {
      if (index > 0) {
        retried();
        return false;
      }
      stream.on('data', () => stream.close(constants.NGHTTP2_REFUSED_STREAM));
      return true;
    });
    const session = openRawBidi(client, METHOD);
    session.call.write(Buffer.from('first message'));
    await secondStream; // the first message went to the refused stream, then to this one
    session.call.end();
    const outcome = await session.outcome;
    expect([outcome.status.code, outcome.responses]).toEqual([
      status.OK,
      [Buffer.from('first message')],
    ]);
    expect(streams).toBe(2);
  });

  it('gives up when more than the replay limit was sent before the refusal', async () => {
    await start((stream) => {
      let received = 0;
      stream.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > REPLAY_LIMIT_BYTES) stream.close(constants.NGHTTP2_REFUSED_STREAM);
      });
      return true;
    });
    const session = openRawBidi(client, METHOD);
    session.call.write(Buffer.alloc(REPLAY_LIMIT_BYTES + 1024));
    const outcome = await session.outcome;
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.UNAVAILABLE,
      'grpc-proxy: backend raw unavailable: it reset the stream with REFUSED_STREAM (7)',
    ]);
    expect(streams).toBe(1);
  });
});
