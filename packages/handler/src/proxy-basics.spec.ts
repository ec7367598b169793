import { Metadata, status } from '@grpc/grpc-js';
import {
  callRawBidi,
  callRawClientStream,
  callRawServerStream,
  callRawUnary,
} from '@grpc-proxy/testing';
import { entries } from './test-support/grpc-fixtures';
import { useHarness } from './test-support/harness';
import { ECHO, UNKNOWN_METHOD } from './test-support/test-backend';

describe('transparent proxying through createProxyServer', () => {
  const h = useHarness();

  // What grpc-js's client shows for any response: its transport headers once each, plus ours.
  const transportHeaders = {
    'content-type': ['application/grpc+proto'],
    date: [expect.any(String)],
  };
  const expectedHeaders = {
    ...transportHeaders,
    'x-header': ['header-value'],
    'x-header-bin': [Buffer.from([9, 8, 7])],
  };
  const expectedTrailers = {
    'x-trailer': ['trailer-value'],
    'x-trailer-bin': [Buffer.from([0, 1, 2, 255])],
  };
  /** The events of a call whose headers came once, before its `count` responses. */
  const headersThen = (count: number) => ['headers', ...Array(count).fill('response'), 'status'];

  it('proxies a unary call with exact bytes, headers and trailers', async () => {
    const request = Buffer.from([0, 1, 2, 3, 254, 255]);
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, request);
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses).toEqual([Buffer.concat([Buffer.from('echo:'), request])]);
    expect(entries(outcome.headers)).toEqual(expectedHeaders);
    expect(outcome.events).toEqual(headersThen(1));
    expect(entries(outcome.status.metadata)).toEqual(expectedTrailers);
  });

  it('proxies a client-streaming call', async () => {
    const requests = [Buffer.from('a'), Buffer.alloc(0), Buffer.from([0, 255])];
    const outcome = await callRawClientStream(h.client, `${ECHO}/ClientStream`, requests);
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses).toEqual([Buffer.concat([Buffer.from('n=3:'), ...requests])]);
    expect(entries(outcome.status.metadata)).toEqual(expectedTrailers);
  });

  it('proxies a server-streaming call, headers before the first message', async () => {
    const md = new Metadata();
    md.set('x-count', '5');
    const outcome = await callRawServerStream(h.client, `${ECHO}/ServerStream`, Buffer.from('s'), {
      metadata: md,
    });
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses).toEqual([0, 1, 2, 3, 4].map((i) => Buffer.from([0x73, i])));
    expect(outcome.events).toEqual(headersThen(5));
    expect(entries(outcome.headers)).toEqual(expectedHeaders);
    expect(entries(outcome.status.metadata)).toEqual(expectedTrailers);
  });

  it('proxies a bidi call', async () => {
    const requests = [Buffer.from('one'), Buffer.from('two'), Buffer.alloc(70000, 7)];
    const outcome = await callRawBidi(h.client, `${ECHO}/Bidi`, requests);
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses).toEqual(requests);
    expect(outcome.events).toEqual(headersThen(3));
    expect(entries(outcome.status.metadata)).toEqual(expectedTrailers);
  });

  it('proxies a method of a service the proxy never heard of', async () => {
    const outcome = await callRawUnary(h.client, UNKNOWN_METHOD, Buffer.from('x'));
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses).toEqual([Buffer.from('echo:x')]);
    expect(h.backend.seen.map((call) => call.method)).toEqual([UNKNOWN_METHOD]);
  });

  it('forwards an application error with exact code, message, trailers and details', async () => {
    const md = new Metadata();
    md.set('x-fail-code', String(status.FAILED_PRECONDITION));
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('x'), {
      metadata: md,
    });
    expect(outcome.status.code).toBe(status.FAILED_PRECONDITION);
    expect(outcome.status.details).toBe('failure 9: with spaces, ünïcode & %');
    expect(entries(outcome.status.metadata)).toEqual({
      ...expectedTrailers,
      'grpc-status-details-bin': [Buffer.from('rich-details')],
    });
  });

  it('keeps a trailers-only response trailers-only', async () => {
    const outcome = await callRawUnary(h.client, `${ECHO}/TrailersOnly`, Buffer.from('x'));
    expect(outcome.status.code).toBe(status.NOT_FOUND);
    expect(outcome.status.details).toBe('nothing here');
    expect(outcome.events).toEqual(['status']);
    expect(entries(outcome.status.metadata)).toEqual({ ...transportHeaders, ...expectedTrailers });
  });
});
