import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata, status as Status } from '@grpc/grpc-js';
import {
  HeadersMode,
  callEcho,
  callRawUnary,
  createEchoClient,
  echoRequest,
  entriesFromPairs,
  patternPayload,
  startEchoServer,
} from './index';
import { useEchoServer } from './test-support/echo-fixture';

const echo = useEchoServer('backend-a');

describe('Echo (unary)', () => {
  it('echoes the payload with the server name, no deadline, and a separate headers frame', async () => {
    const outcome = await callEcho(echo.client, echoRequest({ payload: Buffer.from('hello') }));

    expect(outcome.status.code).toBe(Status.OK);
    expect(outcome.events).toEqual(['headers', 'response', 'status']);
    expect(outcome.responses).toHaveLength(1);
    expect(outcome.responses[0].payload.toString()).toBe('hello');
    expect(outcome.responses[0].serverName).toBe('backend-a');
    expect(outcome.responses[0].deadlineRemainingMs).toBe(-1);
    expect(outcome.responses[0].requestCount).toBe(1);
  });

  it('reports the deadline it saw and records the call', async () => {
    const outcome = await callEcho(echo.client, echoRequest(), {
      options: { deadline: Date.now() + 60_000 },
    });

    const seen = outcome.responses[0].deadlineRemainingMs;
    expect(seen).toBeGreaterThan(50_000);
    expect(seen).toBeLessThanOrEqual(60_000);
    const call = await echo.server.waitForCall((c) => c.ended);
    expect(call.method).toBe('/grpc_proxy.testing.v1.EchoService/Echo');
    expect(call.deadlineRemainingMs).toBe(seen);
    expect(call.requests).toHaveLength(1);
    expect(call.responses).toHaveLength(1);
    expect(call.status?.code).toBe(Status.OK);
    expect(call.cancelled).toBe(false);
  });

  it('answers with a pattern payload of response_size bytes', async () => {
    const outcome = await callEcho(echo.client, echoRequest({ responseSize: 1000 }));
    expect(outcome.responses[0].payload.equals(patternPayload(1000))).toBe(true);
  });

  it('fails before any response as a trailers-only response with message, details and trailers', async () => {
    const details = Buffer.from([0, 1, 2, 255]);
    const outcome = await callEcho(
      echo.client,
      echoRequest({
        statusCode: Status.FAILED_PRECONDITION,
        statusMessage: 'no such thing',
        statusDetails: details,
        responseHeaders: entriesFromPairs([['x-never', 'sent']]),
        responseTrailers: entriesFromPairs([['x-trailer', 't1']]),
      }),
    );

    expect(outcome.events).toEqual(['status']);
    expect(outcome.status.code).toBe(Status.FAILED_PRECONDITION);
    expect(outcome.status.details).toBe('no such thing');
    expect(outcome.status.metadata.get('grpc-status-details-bin')).toEqual([details]);
    expect(outcome.status.metadata.get('x-trailer')).toEqual(['t1']);
    expect(outcome.status.metadata.get('x-never')).toEqual([]);
  });

  it('sends headers before an error when headers go out immediately', async () => {
    const outcome = await callEcho(
      echo.client,
      echoRequest({
        statusCode: Status.ABORTED,
        statusMessage: 'after headers',
        headersMode: HeadersMode.HEADERS_MODE_IMMEDIATE_THEN_WAIT,
        responseHeaders: entriesFromPairs([['x-head', 'h1']]),
      }),
    );

    expect(outcome.events).toEqual(['headers', 'status']);
    expect(outcome.headers?.get('x-head')).toEqual(['h1']);
    expect(outcome.status.code).toBe(Status.ABORTED);
  });

  it('echoes every request metadata value, duplicates and binary values included', async () => {
    const metadata = new Metadata();
    metadata.add('x-dup', 'one');
    metadata.add('x-dup', 'two');
    metadata.add('x-blob-bin', Buffer.from([1, 2]));
    metadata.add('x-blob-bin', Buffer.from([3]));

    const outcome = await callEcho(echo.client, echoRequest({ echoMetadata: true }), { metadata });

    const echoed = outcome.responses[0].requestMetadata.filter((e) => e.key.startsWith('x-'));
    // node:http2 joins repeated ASCII header fields with ", " on receipt; -bin values stay apart.
    expect(echoed.map((e) => [e.key, e.value, [...e.binaryValue]])).toEqual([
      ['x-dup', 'one, two', []],
      ['x-blob-bin', '', [1, 2]],
      ['x-blob-bin', '', [3]],
    ]);
  });

  it('sends configured headers with the first response and trailers with OK', async () => {
    const outcome = await callEcho(
      echo.client,
      echoRequest({
        responseHeaders: entriesFromPairs([
          ['x-h', 'a'],
          ['x-h', 'b'],
          ['x-h-bin', Buffer.from([9])],
        ]),
        responseTrailers: entriesFromPairs([['x-t', 'z']]),
      }),
    );

    expect(outcome.headers?.get('x-h')).toEqual(['a, b']);
    expect(outcome.headers?.get('x-h-bin')).toEqual([Buffer.from([9])]);
    expect(outcome.status.metadata.get('x-t')).toEqual(['z']);
  });

  it('stops waiting on a cancelled call and records the cancellation', async () => {
    const call = echo.client.echo(echoRequest({ delayMs: 60_000 }), () => undefined);
    await echo.server.waitForCall((c) => c.requests.length === 1);
    call.cancel();

    const record = await echo.server.waitForCancelled();
    expect(record.cancelled).toBe(true);
    expect(record.responses).toHaveLength(0);
    expect(record.status).toBeUndefined();
  });

  it('lets the deadline pass while sleeping and records that', async () => {
    const outcome = await callEcho(echo.client, echoRequest({ delayMs: 60_000 }), {
      options: { deadline: Date.now() + 300 },
    });

    expect(outcome.status.code).toBe(Status.DEADLINE_EXCEEDED);
    const record = await echo.server.waitForCall((c) => c.ended);
    expect(record.cancelled || record.deadlineExceeded).toBe(true);
    expect(record.deadlineRemainingMs).toBeGreaterThanOrEqual(0);
    expect(record.deadlineRemainingMs).toBeLessThanOrEqual(300);
  });
});

describe('server handle', () => {
  it('counts calls to methods it does not implement', async () => {
    const before = await echo.server.callCounts();
    const outcome = await callRawUnary(
      echo.client,
      '/grpc_proxy.testing.v1.EchoService/Missing',
      Buffer.alloc(0),
    );

    expect(outcome.status.code).toBe(Status.UNIMPLEMENTED);
    const after = await echo.server.callCounts();
    expect(after.started - before.started).toBe(1);
    expect(after.failed - before.failed).toBe(1);
  });

  it('listens on a unix socket', async () => {
    const path = join(tmpdir(), `echo-${process.pid}-${Date.now()}.sock`);
    const unixServer = await startEchoServer({ unixSocketPath: path, name: 'unix' });
    const unixClient = createEchoClient(unixServer.address);
    try {
      expect(unixServer.address).toBe(`unix:${path}`);
      const outcome = await callEcho(unixClient, echoRequest());
      expect(outcome.responses[0].serverName).toBe('unix');
    } finally {
      unixClient.close();
      await unixServer.close();
    }
  });
});
