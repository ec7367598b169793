import { status as Status } from '@grpc/grpc-js';
import {
  HeadersMode,
  callBidi,
  callClientStream,
  callServerStream,
  echoRequest,
  entriesFromPairs,
  openBidi,
} from './index';
import { useEchoServer } from './test-support/echo-fixture';

const echo = useEchoServer('backend-a');

describe('ServerStream', () => {
  it('sends response_count responses in order', async () => {
    const outcome = await callServerStream(
      echo.client,
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
    const outcome = await callServerStream(echo.client, echoRequest({ responseCount: 0 }));
    expect(outcome.status.code).toBe(Status.OK);
    expect(outcome.responses).toHaveLength(0);
  });

  it('fails after status_after responses with the trailers', async () => {
    const outcome = await callServerStream(
      echo.client,
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
    const outcome = await callClientStream(echo.client, [
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
    const call = echo.client.clientStream((error) => error);
    const status = new Promise<number>((resolve) => call.on('status', (s) => resolve(s.code)));
    call.write(echoRequest({ statusCode: Status.OUT_OF_RANGE }));

    expect(await status).toBe(Status.OUT_OF_RANGE);
    const record = await echo.server.waitForCall((c) => c.ended);
    expect(record.halfClosed).toBe(false);
    call.end();
  });
});

describe('Bidi', () => {
  it('answers each message in lockstep', async () => {
    const session = openBidi(echo.client);
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
    const session = openBidi(echo.client);
    session.call.write(
      echoRequest({
        payload: Buffer.from('first'),
        headersMode: HeadersMode.HEADERS_MODE_IMMEDIATE_THEN_WAIT,
        responseHeaders: entriesFromPairs([['x-early', 'yes']]),
      }),
    );
    const headers = await session.headers();
    expect(headers.get('x-early')).toEqual(['yes']);
    const record = await echo.server.waitForCall((c) => c.headers !== undefined);
    expect(record.responses).toHaveLength(0);

    session.call.write(echoRequest({ payload: Buffer.from('second') }));
    expect((await session.nextResponse()).payload.toString()).toBe('first');
    expect((await session.nextResponse()).payload.toString()).toBe('second');
    session.call.end();
    expect((await session.outcome).status.code).toBe(Status.OK);
  });

  it('ends first with a status while the client side is still open', async () => {
    const session = openBidi(echo.client);
    session.call.write(echoRequest({ statusCode: Status.OK, statusAfter: 1 }));

    const outcome = await session.outcome;
    expect(outcome.status.code).toBe(Status.OK);
    expect(outcome.responses).toHaveLength(1);
    const record = await echo.server.waitForCall((c) => c.ended);
    expect(record.halfClosed).toBe(false);
    expect(record.cancelled).toBe(false);
    session.call.end();
  });

  it('finishes an empty stream with OK and no responses', async () => {
    const outcome = await callBidi(echo.client, []);
    expect(outcome.status.code).toBe(Status.OK);
    expect(outcome.responses).toHaveLength(0);
  });

  it('records a cancellation after the first response', async () => {
    const session = openBidi(echo.client);
    session.call.write(echoRequest());
    await session.nextResponse();
    session.call.cancel();

    const outcome = await session.outcome;
    expect(outcome.status.code).toBe(Status.CANCELLED);
    const record = await echo.server.waitForCancelled((c) => c.method.endsWith('/Bidi'));
    expect(record.responses).toHaveLength(1);
  });
});

describe('hold_until_cancelled', () => {
  it('keeps a bidi call open after the half-close until the client cancels', async () => {
    const session = openBidi(echo.client);
    session.call.write(echoRequest({ payload: Buffer.from('held'), holdUntilCancelled: true }));
    expect((await session.nextResponse()).payload.toString()).toBe('held');
    session.call.end();
    const halfClosed = await echo.server.waitForCall((c) => c.halfClosed);
    expect(halfClosed.ended).toBe(false);
    session.call.cancel();

    expect((await session.outcome).status.code).toBe(Status.CANCELLED);
    const record = await echo.server.waitForCancelled();
    expect(record.halfClosed).toBe(true);
    expect(record.responses).toHaveLength(1);
    expect(record.status).toBeUndefined();
  });

  it('sends every server-streaming response, then waits for the cancellation', async () => {
    const call = echo.client.serverStream(
      echoRequest({ payload: Buffer.from('p'), responseCount: 2, holdUntilCancelled: true }),
    );
    call.on('error', () => undefined); // the status carries the cancellation
    const status = new Promise<number>((resolve) => call.on('status', (s) => resolve(s.code)));
    await echo.server.waitForCall((c) => c.responses.length === 2);
    call.cancel();

    expect(await status).toBe(Status.CANCELLED);
    const record = await echo.server.waitForCancelled();
    expect(record.responses).toHaveLength(2);
    expect(record.status).toBeUndefined();
  });

  it('answers a client-streaming call with nothing once the deadline passes', async () => {
    const outcome = await callClientStream(
      echo.client,
      [echoRequest({ holdUntilCancelled: true })],
      {
        options: { deadline: Date.now() + 500 },
      },
    );

    expect(outcome.status.code).toBe(Status.DEADLINE_EXCEEDED);
    expect(outcome.responses).toHaveLength(0);
    const record = await echo.server.waitForCall((c) => c.ended);
    expect(record.cancelled || record.deadlineExceeded).toBe(true);
    expect(record.status).toBeUndefined();
  });
});
