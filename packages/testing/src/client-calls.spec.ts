import { Metadata, status as Status } from '@grpc/grpc-js';
import {
  EchoRequest,
  EchoResponse,
  callRawBidi,
  callRawClientStream,
  callRawServerStream,
  entriesFromPairs,
} from './index';
import { useEchoServer } from './test-support/echo-fixture';

const METHOD = '/grpc_proxy.testing.v1.EchoService';
const encode = (request: Partial<EchoRequest>): Buffer =>
  Buffer.from(EchoRequest.encode(EchoRequest.fromPartial(request)).finish());
const payloads = (responses: Buffer[]): string[] =>
  responses.map((bytes) => Buffer.from(EchoResponse.decode(bytes).payload).toString());

describe('the raw call helpers', () => {
  const echo = useEchoServer('raw');

  it('runs a client-streaming call: every request written, one response, the status', async () => {
    const outcome = await callRawClientStream(echo.client, `${METHOD}/ClientStream`, [
      encode({ payload: Buffer.from('a'), responseHeaders: entriesFromPairs([['x-h', '1']]) }),
      encode({ payload: Buffer.from('b') }),
    ]);

    expect([outcome.status.code, payloads(outcome.responses)]).toEqual([Status.OK, ['ab']]);
    expect(outcome.headers?.get('x-h')).toEqual(['1']);
    expect(outcome.events).toEqual(['headers', 'response', 'status']);
  });

  it('runs a server-streaming call with the metadata given', async () => {
    const metadata = new Metadata();
    metadata.set('x-in', 'yes');
    const request = encode({ payload: Buffer.from('s'), responseCount: 3, echoMetadata: true });
    const outcome = await callRawServerStream(echo.client, `${METHOD}/ServerStream`, request, {
      metadata,
    });

    expect([outcome.status.code, payloads(outcome.responses)]).toEqual([
      Status.OK,
      ['s', 's', 's'],
    ]);
    const seen = EchoResponse.decode(outcome.responses[0]).requestMetadata;
    expect(seen.filter((entry) => entry.key === 'x-in').map((entry) => entry.value)).toEqual([
      'yes',
    ]);
    expect(outcome.events).toEqual(['headers', 'response', 'response', 'response', 'status']);
  });

  it('runs a bidi call and reports an error status instead of rejecting', async () => {
    const outcome = await callRawBidi(echo.client, `${METHOD}/Bidi`, [
      encode({ payload: Buffer.from('1'), statusCode: Status.ABORTED, statusAfter: 1 }),
    ]);

    expect(payloads(outcome.responses)).toEqual(['1']);
    expect([outcome.status.code, outcome.status.details]).toEqual([Status.ABORTED, '']);
    expect(outcome.events).toEqual(['headers', 'response', 'status']);
  });
});
