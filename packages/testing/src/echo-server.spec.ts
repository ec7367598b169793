import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata, status as Status } from '@grpc/grpc-js';
import {
  HeadersMode,
  callBidi,
  callClientStream,
  callEcho,
  callRawUnary,
  callServerStream,
  createEchoClient,
  echoRequest,
  entriesFromPairs,
  openBidi,
  patternPayload,
  startEchoServer,
} from './index';
import type { EchoServerHandle, EchoServiceClient } from './index';

let server: EchoServerHandle;
let client: EchoServiceClient;

beforeEach(async () => {
  server = await startEchoServer({ name: 'backend-a' });
  client = createEchoClient(server.address);
});

afterEach(async () => {
  client.close();
  server.forceClose();
});

describe('Echo (unary)', () => {
  it('echoes the payload with the server name, no deadline, and a separate headers frame', async () => {
    const outcome = await callEcho(client, echoRequest({ payload: Buffer.from('hello') }));

    expect(outcome.status.code).toBe(Status.OK);
    expect(outcome.events).toEqual(['headers', 'response', 'status']);
    expect(outcome.responses).toHaveLength(1);
    expect(outcome.responses[0].payload.toString()).toBe('hello');
    expect(outcome.responses[0].serverName).toBe('backend-a');
    expect(outcome.responses[0].deadlineRemainingMs).toBe(-1);
    expect(outcome.responses[0].requestCount).toBe(1);
  });

  it('reports the deadline it saw and records the call', async () => {
    const outcome = await callEcho(client, echoRequest(), {
      options: { deadline: Date.now() + 60_000 },
    });

    const seen = outcome.responses[0].deadlineRemainingMs;
    expect(seen).toBeGreaterThan(50_000);
    expect(seen).toBeLessThanOrEqual(60_000);
    const call = await server.waitForCall((c) => c.ended);
    expect(call.method).toBe('/grpc_proxy.testing.v1.EchoService/Echo');
    expect(call.deadlineRemainingMs).toBe(seen);
    expect(call.requests).toHaveLength(1);
    expect(call.responses).toHaveLength(1);
    expect(call.status?.code).toBe(Status.OK);
    expect(call.cancelled).toBe(false);
  });

  it('answers with a pattern payload of response_size bytes', async () => {
    const outcome = await callEcho(client, echoRequest({ responseSize: 1000 }));
    expect(outcome.responses[0].payload.equals(patternPayload(1000))).toBe(true);
  });

  it('fails before any response as a trailers-only response with message, details and trailers', async () => {
    const details = Buffer.from([0, 1, 2, 255]);
    const outcome = await callEcho(
      client,
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
      client,
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

    const outcome = await callEcho(client, echoRequest({ echoMetadata: true }), { metadata });

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
      client,
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
    const call = client.echo(echoRequest({ delayMs: 60_000 }), () => undefined);
    await server.waitForCall((c) => c.requests.length === 1);
    call.cancel();

    const record = await server.waitForCancelled();
    expect(record.cancelled).toBe(true);
    expect(record.responses).toHaveLength(0);
    expect(record.status).toBeUndefined();
  });

  it('lets the deadline pass while sleeping and records that', async () => {
    const outcome = await callEcho(client, echoRequest({ delayMs: 60_000 }), {
      options: { deadline: Date.now() + 300 },
    });

    expect(outcome.status.code).toBe(Status.DEADLINE_EXCEEDED);
    const record = await server.waitForCall((c) => c.ended);
    expect(record.cancelled || record.deadlineExceeded).toBe(true);
    expect(record.deadlineRemainingMs).toBeGreaterThanOrEqual(0);
    expect(record.deadlineRemainingMs).toBeLessThanOrEqual(300);
  });
});

describe('ServerStream', () => {
  it('sends response_count responses in order', async () => {
    const outcome = await callServerStream(
      client,
      echoRequest({ payload: Buffer.from('p'), responseCount: 3 }),
    );

    expect(outcome.status.code).toBe(Status.OK);
    expect(outcome.responses.map((r) => [r.index, r.payload.toString()])).toEqual([
      [0, 'p'],
      [1, 'p'],
      [2, 'p'],
    ]);
  });

  it('sends an empty stream as trailers-only when asked for no responses', async () => {
    const outcome = await callServerStream(client, echoRequest({ responseCount: 0 }));
    expect(outcome.status.code).toBe(Status.OK);
    expect(outcome.responses).toHaveLength(0);
  });

  it('fails after status_after responses with the trailers', async () => {
    const outcome = await callServerStream(
      client,
      echoRequest({
        responseCount: 5,
        statusCode: Status.RESOURCE_EXHAUSTED,
        statusMessage: 'stop',
        statusAfter: 2,
        responseTrailers: entriesFromPairs([['x-t', '1']]),
      }),
    );

    expect(outcome.responses).toHaveLength(2);
    expect(outcome.events).toEqual(['headers', 'response', 'response', 'status']);
    expect(outcome.status.code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(outcome.status.details).toBe('stop');
    expect(outcome.status.metadata.get('x-t')).toEqual(['1']);
  });
});

describe('ClientStream', () => {
  it('answers once with every payload concatenated and the request count', async () => {
    const outcome = await callClientStream(client, [
      echoRequest({ payload: Buffer.from('ab') }),
      echoRequest({ payload: Buffer.from('c') }),
      echoRequest({ payload: Buffer.from('de') }),
    ]);

    expect(outcome.status.code).toBe(Status.OK);
    expect(outcome.responses).toHaveLength(1);
    expect(outcome.responses[0].payload.toString()).toBe('abcde');
    expect(outcome.responses[0].requestCount).toBe(3);
  });

  it('ends with the configured status without waiting for the half-close', async () => {
    const call = client.clientStream((error) => error);
    const status = new Promise<number>((resolve) => call.on('status', (s) => resolve(s.code)));
    call.write(echoRequest({ statusCode: Status.OUT_OF_RANGE }));

    expect(await status).toBe(Status.OUT_OF_RANGE);
    const record = await server.waitForCall((c) => c.ended);
    expect(record.halfClosed).toBe(false);
    call.end();
  });
});

describe('Bidi', () => {
  it('answers each message in lockstep', async () => {
    const session = openBidi(client);
    for (let i = 0; i < 3; i++) {
      session.call.write(echoRequest({ payload: Buffer.from(`m${i}`) }));
      const response = await session.nextResponse();
      expect(response.payload.toString()).toBe(`m${i}`);
      expect(response.index).toBe(i);
    }
    session.call.end();

    const outcome = await session.outcome;
    expect(outcome.status.code).toBe(Status.OK);
    expect(outcome.events[0]).toBe('headers');
  });

  it('sends headers first and waits for the next client message before answering', async () => {
    const session = openBidi(client);
    session.call.write(
      echoRequest({
        payload: Buffer.from('first'),
        headersMode: HeadersMode.HEADERS_MODE_IMMEDIATE_THEN_WAIT,
        responseHeaders: entriesFromPairs([['x-early', 'yes']]),
      }),
    );
    const headers = await session.headers();
    expect(headers.get('x-early')).toEqual(['yes']);
    const record = await server.waitForCall((c) => c.headers !== undefined);
    expect(record.responses).toHaveLength(0);

    session.call.write(echoRequest({ payload: Buffer.from('second') }));
    expect((await session.nextResponse()).payload.toString()).toBe('first');
    expect((await session.nextResponse()).payload.toString()).toBe('second');
    session.call.end();
    expect((await session.outcome).status.code).toBe(Status.OK);
  });

  it('ends first with a status while the client side is still open', async () => {
    const session = openBidi(client);
    session.call.write(echoRequest({ statusCode: Status.OK, statusAfter: 1 }));

    const outcome = await session.outcome;
    expect(outcome.status.code).toBe(Status.OK);
    expect(outcome.responses).toHaveLength(1);
    const record = await server.waitForCall((c) => c.ended);
    expect(record.halfClosed).toBe(false);
    expect(record.cancelled).toBe(false);
    session.call.end();
  });

  it('finishes an empty stream with OK and no responses', async () => {
    const outcome = await callBidi(client, []);
    expect(outcome.status.code).toBe(Status.OK);
    expect(outcome.responses).toHaveLength(0);
  });

  it('records a cancellation after the first response', async () => {
    const session = openBidi(client);
    session.call.write(echoRequest());
    await session.nextResponse();
    session.call.cancel();

    const outcome = await session.outcome;
    expect(outcome.status.code).toBe(Status.CANCELLED);
    const record = await server.waitForCancelled((c) => c.method.endsWith('/Bidi'));
    expect(record.responses).toHaveLength(1);
  });
});

describe('hold_until_cancelled', () => {
  it('keeps a bidi call open after the half-close until the client cancels', async () => {
    const session = openBidi(client);
    session.call.write(echoRequest({ payload: Buffer.from('held'), holdUntilCancelled: true }));
    expect((await session.nextResponse()).payload.toString()).toBe('held');
    session.call.end();
    const halfClosed = await server.waitForCall((c) => c.halfClosed);
    expect(halfClosed.ended).toBe(false);
    session.call.cancel();

    expect((await session.outcome).status.code).toBe(Status.CANCELLED);
    const record = await server.waitForCancelled();
    expect(record.halfClosed).toBe(true);
    expect(record.responses).toHaveLength(1);
    expect(record.status).toBeUndefined();
  });

  it('sends every server-streaming response, then waits for the cancellation', async () => {
    const call = client.serverStream(
      echoRequest({ payload: Buffer.from('p'), responseCount: 2, holdUntilCancelled: true }),
    );
    call.on('error', () => undefined); // the status carries the cancellation
    const status = new Promise<number>((resolve) => call.on('status', (s) => resolve(s.code)));
    await server.waitForCall((c) => c.responses.length === 2);
    call.cancel();

    expect(await status).toBe(Status.CANCELLED);
    const record = await server.waitForCancelled();
    expect(record.responses).toHaveLength(2);
    expect(record.status).toBeUndefined();
  });

  it('answers a client-streaming call with nothing once the deadline passes', async () => {
    const outcome = await callClientStream(client, [echoRequest({ holdUntilCancelled: true })], {
      options: { deadline: Date.now() + 500 },
    });

    expect(outcome.status.code).toBe(Status.DEADLINE_EXCEEDED);
    expect(outcome.responses).toHaveLength(0);
    const record = await server.waitForCall((c) => c.ended);
    expect(record.cancelled || record.deadlineExceeded).toBe(true);
    expect(record.status).toBeUndefined();
  });
});

describe('server handle', () => {
  it('counts calls to methods it does not implement', async () => {
    const before = await server.callCounts();
    const outcome = await callRawUnary(
      client,
      '/grpc_proxy.testing.v1.EchoService/Missing',
      Buffer.alloc(0),
    );

    expect(outcome.status.code).toBe(Status.UNIMPLEMENTED);
    const after = await server.callCounts();
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
