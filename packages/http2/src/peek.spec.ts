/**
 * Peek on the http2 engine: a director awaits `call.firstMessage()` and routes on what the request
 * says; the message still reaches the backend unchanged, first, for every call kind.
 */
import { Client, credentials, status } from '@grpc/grpc-js';
import { ProxyStatusError, type CallReport, type ProxyCall } from '@grpc-proxy/handler';
import {
  EchoRequest,
  callBidi,
  callClientStream,
  callEcho,
  callRawUnary,
  callServerStream,
  createEchoClient,
  echoRequest,
  openBidi,
  startEchoServer,
  type EchoServerHandle,
  type EchoServiceClient,
} from '@grpc-proxy/testing';
import type { Http2ProxyOptions } from './options';
import { startHttp2Proxy, type RunningProxy } from './test-support/proxy';
import { rawSession } from './test-support/raw-h2';

/** What a director's `firstMessage()` gave. */
type Peeked = { message: Buffer | null } | { error: unknown };

interface Setup {
  a: EchoServerHandle;
  b: EchoServerHandle;
  proxy: RunningProxy;
  echo: EchoServiceClient;
  peeked: Peeked[];
  reports: CallReport[];
}

describe('peek on the http2 engine', () => {
  let s: Setup;
  let closers: Array<() => unknown> = [];

  /** Waits (bounded) for `count` reports. */
  async function reported(count: number): Promise<CallReport[]> {
    for (let i = 0; i < 500 && s.reports.length < count; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return s.reports;
  }

  /** Records what `call.firstMessage()` gives, then rethrows a rejection (the client gets it). */
  async function peek(call: ProxyCall): Promise<Buffer | null> {
    try {
      const message = await call.firstMessage();
      s.peeked.push({ message });
      return message;
    } catch (error) {
      s.peeked.push({ error });
      throw error;
    }
  }

  /** Backends a and b; a proxy routing each call by its first message's payload[0] (2: b). */
  async function start(options: Omit<Http2ProxyOptions, 'director'> = {}): Promise<void> {
    const a = await startEchoServer({ name: 'a' });
    const b = await startEchoServer({ name: 'b' });
    const reports: CallReport[] = [];
    const proxy = await startHttp2Proxy(
      async (call) => {
        const message = await peek(call);
        const to = message && EchoRequest.decode(message).payload[0] === 2 ? b : a;
        return { backend: { name: to.name, target: to.address } };
      },
      { ...options, observer: { onCallEnd: (report) => reports.push(report) } },
    );
    const echo = createEchoClient(proxy.address);
    s = { a, b, proxy, echo, peeked: [], reports };
    closers.push(
      () => echo.close(),
      () => proxy.close(),
      () => a.forceClose(),
      () => b.forceClose(),
    );
  }

  afterEach(async () => {
    for (const close of closers) await close();
    closers = [];
  });

  const toB = (more: Partial<EchoRequest> = {}) =>
    echoRequest({ payload: Buffer.from([2, 7]), ...more });
  const toA = (more: Partial<EchoRequest> = {}) =>
    echoRequest({ payload: Buffer.from([1, 7]), ...more });

  it('routes each call where its first message says', async () => {
    await start();
    const requests = Array.from({ length: 10 }, (_, i) => (i % 3 === 0 ? toB() : toA()));
    const outcomes = await Promise.all(requests.map((request) => callEcho(s.echo, request)));
    expect(outcomes.map((o) => [o.status.code, o.responses[0]?.serverName])).toEqual(
      requests.map((r) => [status.OK, r.payload[0] === 2 ? 'b' : 'a']),
    );
    expect([s.a.calls.length, s.b.calls.length]).toEqual([6, 4]);
    expect(s.peeked).toHaveLength(10);
    const encoded = requests.map((r) => Buffer.from(EchoRequest.encode(r).finish()));
    // Each director saw its own call's message (order of arrival may differ).
    expect(
      s.peeked.map((p) => ('message' in p ? p.message?.toString('hex') : 'error')).sort(),
    ).toEqual(encoded.map((e) => e.toString('hex')).sort());
  });

  it('works for every call kind; the backend gets the peeked message first, then the rest', async () => {
    await start();
    const unary = await callEcho(s.echo, toB());
    const server = await callServerStream(s.echo, toB({ responseCount: 3 }));
    const client = await callClientStream(s.echo, [toB(), toA(), toA()]);
    const bidi = await callBidi(s.echo, [toA(), toB(), toB()]);
    expect(unary.responses.map((r) => r.serverName)).toEqual(['b']);
    expect(server.responses.map((r) => r.serverName)).toEqual(['b', 'b', 'b']);
    expect([client.responses[0]?.serverName, client.responses[0]?.requestCount]).toEqual(['b', 3]);
    expect(bidi.responses.map((r) => r.serverName)).toEqual(['a', 'a', 'a']);
    for (const o of [unary, server, client, bidi]) expect(o.status.code).toBe(status.OK);
    expect([s.a.calls.length, s.b.calls.length]).toEqual([1, 3]);
    const [clientCall] = s.b.calls.filter((c) => c.method.endsWith('/ClientStream'));
    expect(clientCall.requests.map((r) => r.payload[0])).toEqual([2, 1, 1]);
    expect(s.a.calls[0].requests.map((r) => r.payload[0])).toEqual([1, 2, 2]);
    const reports = await reported(4);
    expect(reports.map((r) => r.messagesFromClient).sort()).toEqual([1, 1, 3, 3]);
  });

  it('gives null when the client half-closes without a message; the call still reaches the backend', async () => {
    await start();
    const client = await callClientStream(s.echo, []);
    const bidi = await callBidi(s.echo, []);
    expect([client.status.code, client.responses[0]?.requestCount]).toEqual([status.OK, 0]);
    expect([bidi.status.code, bidi.responses]).toEqual([status.OK, []]);
    expect(s.peeked).toEqual([{ message: null }, { message: null }]);
    expect(s.a.calls.map((c) => [c.requests.length, c.halfClosed])).toEqual([
      [0, true],
      [0, true],
    ]);
  });

  it('ends a call whose first message is over the limit with RESOURCE_EXHAUSTED; the peek rejects with it', async () => {
    await start({ maxReceiveMessageLength: 100 });
    const outcome = await callRawUnary(
      new Client(s.proxy.address, credentials.createInsecure()),
      '/x.Y/Z',
      Buffer.alloc(101),
    );
    const details =
      'grpc-proxy: message from client is 101 bytes, more than maxReceiveMessageLength (100)';
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.RESOURCE_EXHAUSTED,
      details,
    ]);
    expect(s.peeked).toHaveLength(1);
    const [peeked] = s.peeked as Array<{ error: ProxyStatusError }>;
    expect(peeked.error).toBeInstanceOf(ProxyStatusError);
    expect([peeked.error.code, peeked.error.details]).toEqual([status.RESOURCE_EXHAUSTED, details]);
    expect([s.a.calls.length, s.b.calls.length]).toEqual([0, 0]);
  });

  /** Bounded wait until the director was asked (the proxy runs the call). */
  async function directorAsked(): Promise<void> {
    for (let i = 0; i < 400 && s.proxy.proxy.activeCalls === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(s.proxy.proxy.activeCalls).toBe(1);
  }

  it('rejects with CANCELLED when the client resets the stream while the director waits; nothing is left', async () => {
    await start();
    const session = rawSession(s.proxy.address);
    closers.unshift(() => session.destroy());
    const request = session.request(
      { ':method': 'POST', ':path': '/x.Y/Z', 'content-type': 'application/grpc', te: 'trailers' },
      { endStream: false },
    );
    request.on('error', () => undefined);
    await directorAsked();
    request.destroy(); // RST_STREAM alone (a stream close() half-closes first)
    const [report] = await reported(1);
    expect([report.code, report.details]).toEqual([status.CANCELLED, 'Cancelled by client']);
    for (let i = 0; i < 100 && s.peeked.length === 0; i++) await new Promise(setImmediate);
    const [peeked] = s.peeked as Array<{ error: ProxyStatusError }>;
    expect(peeked.error).toBeInstanceOf(ProxyStatusError);
    expect([peeked.error.code, peeked.error.details]).toEqual([
      status.CANCELLED,
      'Cancelled by client',
    ]);
    expect([s.peeked.length, s.proxy.proxy.activeCalls]).toEqual([1, 0]);
    expect([s.a.calls.length, s.b.calls.length]).toEqual([0, 0]);
  });

  it('settles when a grpc-js client cancels while the director waits (null: it half-closes before its reset)', async () => {
    await start();
    const bidi = openBidi(s.echo);
    await directorAsked();
    bidi.call.cancel();
    expect((await bidi.outcome).status.code).toBe(status.CANCELLED);
    const [report] = await reported(1);
    expect(report.code).toBe(status.CANCELLED);
    for (let i = 0; i < 100 && s.peeked.length === 0; i++) await new Promise(setImmediate);
    expect(s.peeked).toHaveLength(1);
    const [peeked] = s.peeked;
    if ('error' in peeked) {
      expect((peeked.error as ProxyStatusError).code).toBe(status.CANCELLED);
    } else {
      expect(peeked.message).toBeNull();
    }
    expect([s.proxy.proxy.activeCalls, s.b.calls.length]).toEqual([0, 0]);
  });

  it('rejects with DEADLINE_EXCEEDED when nothing comes before the deadline', async () => {
    await start();
    const session = rawSession(s.proxy.address);
    closers.unshift(() => session.destroy());
    // A raw client: it neither cancels nor half-closes at its deadline, the proxy ends the call.
    const request = session.request(
      {
        ':method': 'POST',
        ':path': '/x.Y/Z',
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-timeout': '200m',
      },
      { endStream: false },
    );
    request.on('error', () => undefined);
    const answer = await new Promise<Record<string, unknown>>((resolve) =>
      request.on('response', (headers) => resolve(headers)),
    );
    expect([answer['grpc-status'], decodeURIComponent(String(answer['grpc-message']))]).toEqual([
      String(status.DEADLINE_EXCEEDED),
      'Deadline exceeded',
    ]);
    const [report] = await reported(1);
    expect([report.code, report.details]).toEqual([status.DEADLINE_EXCEEDED, 'Deadline exceeded']);
    for (let i = 0; i < 100 && s.peeked.length === 0; i++) await new Promise(setImmediate);
    const [peeked] = s.peeked as Array<{ error: ProxyStatusError }>;
    expect([peeked.error.code, peeked.error.details]).toEqual([
      status.DEADLINE_EXCEEDED,
      'Deadline exceeded',
    ]);
    expect([s.proxy.proxy.activeCalls, s.a.calls.length, s.b.calls.length]).toEqual([0, 0, 0]);
  });
});
