/** Limits, the observer's reports and the proxy's own deadline, with a grpc-js client and backend. */
import { status } from '@grpc/grpc-js';
import { encodeMessage } from '@grpc-proxy/codec';
import {
  EchoRequest,
  EchoResponse,
  callBidi,
  callEcho,
  echoRequest,
  openRawBidi,
} from '@grpc-proxy/testing';
import { useHarness } from './test-support/harness';
import { rawSession } from './test-support/raw-h2';

const BIDI = '/grpc_proxy.testing.v1.EchoService/Bidi';

describe('message size limits, on each leg', () => {
  const h = useHarness({ maxReceiveMessageLength: 100, maxSendMessageLength: 100 });

  it('ends a call whose client message is over the limit with RESOURCE_EXHAUSTED, resetting the backend', async () => {
    const session = openRawBidi(h.client, BIDI);
    session.call.write(Buffer.from(EchoRequest.encode(echoRequest()).finish()));
    await session.nextResponse();
    session.call.write(Buffer.alloc(101));
    const outcome = await session.outcome;
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.RESOURCE_EXHAUSTED,
      'grpc-proxy: message from client is 101 bytes, more than maxReceiveMessageLength (100)',
    ]);
    const record = await h.backend.waitForCall((c) => c.ended, {
      timeoutMs: 5000,
      description: 'the backend call to end',
    });
    expect([record.requests.length, record.cancelled]).toEqual([1, true]);
    const [report] = await h.reported(1);
    expect(report).toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
      proxyError: true,
      messagesFromClient: 1,
    });
  });

  it('takes a client message of exactly the limit', async () => {
    const request = echoRequest({ payload: Buffer.alloc(100 - 2) });
    expect(EchoRequest.encode(request).finish().length).toBe(100);
    await callEcho(h.echo, request); // its echo is over the send limit: only the request counts
    const record = await h.backend.waitForCall((c) => c.requests.length === 1, {
      timeoutMs: 5000,
      description: 'the request at the backend',
    });
    expect(record.requests[0].payload).toEqual(request.payload);
  });

  it('ends a call whose backend message is over the limit with RESOURCE_EXHAUSTED naming the backend', async () => {
    const outcome = await callEcho(h.echo, echoRequest({ responseSize: 200 }));
    expect(outcome.status.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(outcome.status.details).toMatch(
      /^grpc-proxy: message from backend echo-backend is \d{3} bytes, more than maxSendMessageLength \(100\)$/,
    );
    expect(outcome.responses).toEqual([]);
  });
});

describe('the observer', () => {
  const h = useHarness();

  it('hears each call once, with the messages and payload bytes each way and the backend', async () => {
    const requests = [1, 20, 300].map((size) => echoRequest({ payload: Buffer.alloc(size, 7) }));
    const outcome = await callBidi(h.echo, requests);
    expect(outcome.status.code).toBe(status.OK);
    const [report] = await h.reported(1);
    const size = (bytes: Uint8Array[]): number => bytes.reduce((sum, b) => sum + b.length, 0);
    expect(report).toMatchObject({
      method: '/grpc_proxy.testing.v1.EchoService/Bidi',
      backend: 'echo-backend',
      code: status.OK,
      details: 'OK',
      proxyError: false,
      messagesFromClient: 3,
      messagesToClient: 3,
      bytesFromClient: size(requests.map((r) => EchoRequest.encode(r).finish())),
      bytesToClient: size(outcome.responses.map((r) => EchoResponse.encode(r).finish())),
    });
    expect(h.releases.map((s) => s.code)).toEqual([status.OK]);
  });

  it("reports the backend's own error status as not the proxy's", async () => {
    const outcome = await callEcho(
      h.echo,
      echoRequest({ statusCode: status.ABORTED, statusMessage: 'from the backend' }),
    );
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.ABORTED,
      'from the backend',
    ]);
    const [report] = await h.reported(1);
    expect(report).toMatchObject({
      code: status.ABORTED,
      details: 'from the backend',
      proxyError: false,
    });
    expect(h.releases[0].metadata.get('grpc-status')).toEqual([]);
  });
});

describe("the proxy's own deadline", () => {
  const h = useHarness();

  it('ends the call with DEADLINE_EXCEEDED at a route deadline sooner than the client, and ends the backend call', async () => {
    h.director = () => ({ ...h.route(), callOptions: { deadline: Date.now() + 200 } });
    const started = Date.now();
    const outcome = await callEcho(h.echo, echoRequest({ delayMs: 60_000 }), {
      options: { deadline: Date.now() + 20_000 },
    });
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.DEADLINE_EXCEEDED,
      'Deadline exceeded',
    ]);
    expect(Date.now() - started).toBeLessThan(5000);
    const record = await h.backend.waitForCall((c) => c.ended, {
      timeoutMs: 5000,
      description: 'the backend call to end',
    });
    expect(record.deadlineRemainingMs).toBeLessThanOrEqual(200);
    expect(record.cancelled || record.deadlineExceeded).toBe(true);
    const [report] = await h.reported(1);
    expect(report).toMatchObject({ code: status.DEADLINE_EXCEEDED, proxyError: false });
  });
});

describe('a client that goes away', () => {
  const h = useHarness();

  it('has its backend stream reset when its connection drops mid-call', async () => {
    const session = rawSession(h.proxy.address);
    try {
      const request = EchoRequest.encode(echoRequest({ holdUntilCancelled: true })).finish();
      const stream = session.request({
        ':method': 'POST',
        ':path': BIDI,
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      stream.on('error', () => undefined);
      stream.write(encodeMessage(request));
      await h.backend.waitForCall((c) => c.requests.length === 1, {
        timeoutMs: 5000,
        description: 'the request at the backend',
      });
    } finally {
      session.destroy();
    }
    const record = await h.backend.waitForCall((c) => c.ended, {
      timeoutMs: 5000,
      description: 'the backend call to end',
    });
    expect(record.cancelled).toBe(true);
    const [report] = await h.reported(1);
    expect(report).toMatchObject({
      code: status.CANCELLED,
      proxyError: false,
      messagesFromClient: 1,
    });
  });
});
