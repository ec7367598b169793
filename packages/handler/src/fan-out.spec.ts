import { status } from '@grpc/grpc-js';
import {
  callRawBidi,
  callRawClientStream,
  callRawServerStream,
  callRawUnary,
} from '@grpc-proxy/testing';
import { entries } from './test-support/grpc-fixtures';
import { metadataOf } from './test-support/fan-out-backend';
import { FAN, useFanOutScene } from './test-support/fan-out-scene';
import { ECHO } from './test-support/test-backend';

const text = (buffers: Buffer[]): string[] => buffers.map((buffer) => buffer.toString());

describe('fan-out (grpc-js engine)', () => {
  const h = useFanOutScene();

  it('interleaves a server stream from three backends: every message, each backend in order, trailers merged', async () => {
    for (const leg of h.legs) leg.count = 4;
    const outcome = await callRawServerStream(h.client, `${ECHO}/ServerStream`, Buffer.from('q'));
    expect([outcome.status.code, outcome.status.details]).toEqual([status.OK, 'OK']);
    const got = text(outcome.responses);
    expect(got).toHaveLength(12);
    for (const id of ['a', 'b', 'c']) {
      expect(got.filter((m) => m.startsWith(id))).toEqual([0, 1, 2, 3].map((i) => `${id}-${i}`));
    }
    // Values of one key appended in backend order (HTTP/2 sends them as one comma-joined field).
    expect(entries(outcome.status.metadata)['x-leg']).toEqual(['a, b, c']);
    // The first response headers to arrive are the client's; the others are dropped.
    expect(outcome.headers?.get('x-leg')).toHaveLength(1);
    expect(h.legs.map((leg) => text(leg.calls[0].messages))).toEqual([['q'], ['q'], ['q']]);
    const report = await h.reported();
    expect(report).toMatchObject({
      backend: FAN,
      code: status.OK,
      proxyError: false,
      messagesFromClient: 1,
      messagesToClient: 12,
      retries: 0,
    });
    expect(report.fanOut).toEqual(
      h.names().map((backend) => ({
        backend,
        code: status.OK,
        details: 'OK',
        proxyError: false,
        messages: 4,
      })),
    );
    expect(h.releases.map((final) => final.code)).toEqual([status.OK]);
  });

  it('sends every client message of a bidi call to every backend, in order, then the half-close', async () => {
    const sent = ['1', '2', '3', '4', '5'].map((s) => Buffer.from(s));
    const outcome = await callRawBidi(h.client, `${ECHO}/Bidi`, sent);
    expect(outcome.status.code).toBe(status.OK);
    const got = text(outcome.responses);
    expect(got).toHaveLength(15);
    for (const id of ['a', 'b', 'c']) {
      expect(got.filter((m) => m.startsWith(id))).toEqual(text(sent).map((m) => `${id}:${m}`));
    }
    for (const leg of h.legs) {
      expect([text(leg.calls[0].messages), leg.calls[0].halfClosed]).toEqual([text(sent), true]);
    }
    const report = await h.reported();
    expect([report.messagesFromClient, report.messagesToClient]).toEqual([5, 15]);
    expect(report.fanOut?.map((leg) => leg.messages)).toEqual([5, 5, 5]);
  });

  it('gives every backend the route metadata and the call deadline', async () => {
    const metadata = metadataOf(['x-route', 'r']);
    h.director = () => h.route({ responses: 'merge' }, { metadata });
    const deadline = Date.now() + 20_000;
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('m'), {
      metadata: metadataOf(['x-client', 'c']),
      options: { deadline },
    });
    expect(outcome.status.code).toBe(status.OK);
    for (const leg of h.legs) {
      expect(leg.calls).toHaveLength(1);
      const [call] = leg.calls;
      expect([call.metadata.get('x-route'), call.metadata.get('x-client')]).toEqual([['r'], []]);
      expect(Math.abs(call.deadline - deadline)).toBeLessThan(1000);
    }
  });

  it('merges a unary call by concatenation in backend order', async () => {
    h.director = () => h.route({ responses: 'merge' });
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('x'));
    expect([outcome.status.code, text(outcome.responses)]).toEqual([status.OK, ['a:xb:xc:x']]);
    // Values of one key appended in backend order (HTTP/2 sends them as one comma-joined field).
    expect(entries(outcome.status.metadata)['x-leg']).toEqual(['a, b, c']);
    const report = await h.reported();
    expect([report.messagesFromClient, report.messagesToClient]).toEqual([1, 1]);
    expect(report.fanOut?.map((leg) => [leg.code, leg.messages])).toEqual([
      [status.OK, 1],
      [status.OK, 1],
      [status.OK, 1],
    ]);
  });

  it('merges a client-streaming call with a custom merge given the responses in backend order', async () => {
    const seen: string[][] = [];
    h.director = () =>
      h.route({
        responses: 'merge',
        merge: (parts) => {
          seen.push(text([...parts]));
          return Buffer.from(text([...parts]).join('|'));
        },
      });
    const sent = ['p', 'q'].map((s) => Buffer.from(s));
    const outcome = await callRawClientStream(h.client, `${ECHO}/ClientStream`, sent);
    expect([outcome.status.code, text(outcome.responses)]).toEqual([
      status.OK,
      ['a:p|a:q|b:p|b:q|c:p|c:q'],
    ]);
    expect(seen).toEqual([['a:p', 'a:q', 'b:p', 'b:q', 'c:p', 'c:q']]);
  });

  it('fans out to a single backend like a plain route', async () => {
    h.director = () => h.route({ responses: 'stream', backends: [h.legClients[1]] });
    const outcome = await callRawServerStream(h.client, `${ECHO}/ServerStream`, Buffer.from('q'));
    expect([outcome.status.code, text(outcome.responses)]).toEqual([
      status.OK,
      ['b-0', 'b-1', 'b-2'],
    ]);
    expect(h.legs.map((leg) => leg.calls.length)).toEqual([0, 1, 0]);
  });
});
