/**
 * The behaviours of Go's mwitkow/grpc-proxy test suite (proxy/handler_test.go), reproduced
 * through createProxyServer against a real backend.
 */
import { Metadata, status } from '@grpc/grpc-js';
import { callRawUnary, openRawBidi } from '@grpc-proxy/testing';
import { ProxyStatusError } from './status-error';
import { entries } from './test-support/grpc-fixtures';
import { useHarness } from './test-support/harness';
import { ECHO } from './test-support/test-backend';

const transportHeaders = { 'content-type': ['application/grpc+proto'], date: [expect.any(String)] };

describe("Go grpc-proxy's handler tests", () => {
  const h = useHarness();

  it('PingEmptyCarriesClientMetadata: client metadata reaches the backend, 50 times in a row', async () => {
    for (let i = 0; i < 50; i++) {
      const md = new Metadata();
      md.set('x-client-header', `value-${i}`);
      const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.alloc(0), {
        metadata: md,
      });
      expect(outcome.status.code).toBe(status.OK);
      expect(h.backend.seen[i].metadata.get('x-client-header')).toEqual([`value-${i}`]);
    }
  });

  it('PingCarriesServerHeadersAndTrailers: headers and trailers arrive as exact sets', async () => {
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('ping'));
    expect(outcome.status.code).toBe(status.OK);
    expect(entries(outcome.headers)).toEqual({
      ...transportHeaders,
      'x-header': ['header-value'],
      'x-header-bin': [Buffer.from([9, 8, 7])],
    });
    expect(entries(outcome.status.metadata)).toEqual({
      'x-trailer': ['trailer-value'],
      'x-trailer-bin': [Buffer.from([0, 1, 2, 255])],
    });
  });

  it('PingErrorPropagatesAppError: an application error arrives with its exact code and message', async () => {
    const md = new Metadata();
    md.set('x-fail-code', String(status.RESOURCE_EXHAUSTED));
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('ping'), {
      metadata: md,
    });
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.RESOURCE_EXHAUSTED,
      'failure 8: with spaces, ünïcode & %',
    ]);
  });

  it('DirectorErrorIsPropagated: a director error arrives with its exact code and message', async () => {
    h.director = () => {
      throw new ProxyStatusError(status.PERMISSION_DENIED, 'testing rejection');
    };
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('ping'));
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.PERMISSION_DENIED,
      'testing rejection',
    ]);
  });

  it('PingStream_FullDuplexWorks: 20-message lockstep, header before the first response, trailer at the end, 50 times', async () => {
    for (let run = 0; run < 50; run++) {
      const session = openRawBidi(h.client, `${ECHO}/Bidi`);
      const echoes: string[] = [];
      for (let i = 0; i < 20; i++) {
        const message = Buffer.from(`run ${run} message ${i}`);
        session.call.write(message);
        const response = await session.nextResponse();
        echoes.push(response.equals(message) ? 'echo' : `wrong: ${response.toString()}`);
      }
      session.call.end();
      const { events, headers, status: final } = await session.outcome;
      expect(echoes).toEqual(Array.from({ length: 20 }, () => 'echo'));
      expect(events).toEqual([
        'headers',
        ...Array.from({ length: 20 }, () => 'response'),
        'status',
      ]);
      expect(entries(headers)).toMatchObject({ 'x-header': ['header-value'] });
      expect(final.code).toBe(status.OK);
      expect(entries(final.metadata)).toEqual({
        'x-trailer': ['trailer-value'],
        'x-trailer-bin': [Buffer.from([0, 1, 2, 255])],
      });
    }
  });
});
