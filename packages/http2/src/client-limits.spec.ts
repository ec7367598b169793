/** The per-client-connection limits: what one abusive connection may cost the proxy and backends. */
import {
  connect,
  constants,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type ServerHttp2Stream,
} from 'node:http2';
import { resolveClientLimits, type Http2ClientLimits } from './client-limits';
import { createHttp2Proxy, type Http2Proxy } from './server';
import { answerHeld, once, startHeldBackend, type HeldBackend } from './test-support/held-backend';

const HANG = {
  ':method': 'POST',
  ':path': '/e2e.Probe/Hang',
  'content-type': 'application/grpc',
  te: 'trailers',
};

describe('client limits', () => {
  let backend: HeldBackend;
  let proxy: Http2Proxy;
  let address: string;
  let sessions: ClientHttp2Session[];

  async function start(limits: Http2ClientLimits): Promise<void> {
    backend = await startHeldBackend();
    proxy = createHttp2Proxy({
      director: () => ({ backend: { target: backend.target } }),
      ...limits,
    });
    address = await proxy.listen('127.0.0.1:0');
  }

  function session(settings: Record<string, number> = {}): ClientHttp2Session {
    const made = connect(`http://${address}`, { settings });
    made.on('error', () => undefined);
    sessions.push(made);
    return made;
  }

  const closes = new WeakMap<ClientHttp2Stream, Promise<unknown>>();

  function open(on: ClientHttp2Session, headers: Record<string, string> = HANG): ClientHttp2Stream {
    // Half-closed at once, as a gRPC client's unary call: only the answer is awaited.
    const stream = on.request(headers, { endStream: true });
    stream.on('error', () => undefined);
    closes.set(stream, once(stream, 'close'));
    return stream;
  }

  /** Resolves once `stream` (made by {@link open}) closed, even if it did long ago. */
  function closed(stream: ClientHttp2Stream): Promise<unknown> {
    return closes.get(stream) ?? Promise.reject(new Error('not a stream of open()'));
  }

  beforeEach(() => {
    sessions = [];
  });

  afterEach(async () => {
    for (const made of sessions) made.destroy();
    await proxy?.close(0);
    await backend?.close();
  });

  it('has safe defaults and checks every limit', () => {
    expect(resolveClientLimits({})).toEqual({
      maxConcurrentStreams: 100,
      clientIdleTimeoutMs: 300_000,
      maxClientResetsPerSecond: 200,
      maxClientBufferBytes: 4 * 1024 * 1024,
      clientStallTimeoutMs: 30_000,
      backendResetBurst: 500,
      backendResetsPerSecond: 30,
    });
    expect(resolveClientLimits({ maxClientResetsPerSecond: 0 }).maxClientResetsPerSecond).toBe(
      Infinity,
    );
    expect(() => resolveClientLimits({ maxConcurrentStreams: 0 })).toThrow(
      new RangeError('maxConcurrentStreams must be an integer from 1 to 4294967295, got 0'),
    );
    expect(() => resolveClientLimits({ clientStallTimeoutMs: 1.5 })).toThrow(
      new RangeError('clientStallTimeoutMs must be an integer from 0 to 9007199254740991, got 1.5'),
    );
  });

  it('runs maxConcurrentStreams calls per connection; the others wait and start in order as calls end', async () => {
    await start({ maxConcurrentStreams: 2 });
    const client = session();
    const settings = await once<{ maxConcurrentStreams?: number }>(client, 'remoteSettings');
    // Ten times the limit is announced: clients queue past it, Node refuses beyond it.
    expect(settings.maxConcurrentStreams).toBe(20);
    const streams = Array.from({ length: 5 }, () => open(client));
    const second = await backend.stream(2);
    answerHeld(await backend.stream(1));
    const third = await backend.stream(3);
    expect(backend.streams.length).toBe(3);
    answerHeld(second);
    answerHeld(third);
    answerHeld(await backend.stream(4));
    answerHeld(await backend.stream(5));
    await Promise.all(streams.map(closed));
    expect(streams.map((stream) => stream.rstCode)).toEqual([0, 0, 0, 0, 0]);
    expect(backend.streams.length).toBe(5);
  });

  it('closes a connection resetting streams before their answer with GOAWAY(ENHANCE_YOUR_CALM); few reach the backend', async () => {
    await start({ maxClientResetsPerSecond: 10, maxConcurrentStreams: 5 });
    const attacker = session();
    await once(attacker, 'remoteSettings');
    const goaway = once<number>(attacker, 'goaway');
    const gone = once(attacker, 'close');
    for (let i = 0; i < 100 && !attacker.destroyed; i++) {
      open(attacker).close(constants.NGHTTP2_CANCEL);
    }
    expect(await goaway).toBe(constants.NGHTTP2_ENHANCE_YOUR_CALM);
    await gone;
    // At most the 5 calls running at once, the 10 resets allowed and the one too many started
    // (a stream reset within the turn its HEADERS arrived never starts).
    expect(backend.streams.length).toBeLessThanOrEqual(16);
    // Another connection is served.
    const healthy = open(session());
    const before = backend.streams.length;
    answerHeld(await backend.stream(before + 1));
    await closed(healthy);
    expect([healthy.rstCode, backend.streams.length]).toEqual([0, before + 1]);
  });

  it('lets a connection reset as many streams as it let finish, plus the limit', async () => {
    await start({ maxClientResetsPerSecond: 2 });
    const client = session();
    // Alternately a call answered and a call reset after the backend got it: never cut.
    for (let i = 1; i <= 12; i += 2) {
      const answered = open(client);
      answerHeld(await backend.stream(i));
      await closed(answered);
      const reset = open(client);
      const atBackend = await backend.stream(i + 1);
      reset.close(constants.NGHTTP2_CANCEL);
      await once(atBackend, 'close');
    }
    expect([client.closed, client.destroyed, backend.streams.length]).toEqual([false, false, 12]);
  });

  it('closes a connection without streams once idle, and only then', async () => {
    await start({ clientIdleTimeoutMs: 100 });
    const idle = session();
    const busy = session();
    const call = open(busy);
    const held = await backend.stream(1);
    expect(await once<number>(idle, 'goaway')).toBe(constants.NGHTTP2_NO_ERROR);
    await once(idle, 'close');
    // The busy connection outlived the idle one: its stream kept it.
    expect(busy.closed).toBe(false);
    answerHeld(held);
    await closed(call);
    expect(await once<number>(busy, 'goaway')).toBe(constants.NGHTTP2_NO_ERROR);
  });

  it('resets a stream whose replies wait on a client that reads nothing, and cancels its backend stream', async () => {
    await start({ clientStallTimeoutMs: 100 });
    const reader = session({ initialWindowSize: 0 });
    const stalled = open(reader);
    const atBackend = await backend.stream(1);
    answerHeld(atBackend, Buffer.alloc(256 * 1024));
    await closed(stalled);
    expect(stalled.rstCode).toBe(constants.NGHTTP2_CANCEL);
    if (!atBackend.closed) await once(atBackend, 'close');
    // The backend had written its answer into its window: ended OK or cancelled by the proxy.
    expect([constants.NGHTTP2_NO_ERROR, constants.NGHTTP2_CANCEL]).toContain(atBackend.rstCode);
  });

  it('refuses new streams of a connection whose stalled streams hold more unread bytes than its budget', async () => {
    // The sweep runs every 50 ms (a quarter of the idle timeout): the held stream counts once its
    // full buffer sent nothing for a whole sweep (a stalled buffer is 16 KiB or more).
    await start({
      maxClientBufferBytes: 16 * 1024,
      clientStallTimeoutMs: 0,
      clientIdleTimeoutMs: 200,
    });
    const reader = session({ initialWindowSize: 0 });
    open(reader);
    answerHeld(await backend.stream(1), Buffer.alloc(256 * 1024));
    // Probes answered trailers-only (no DATA frame, which a zero window would hold) start until
    // the held stream counts.
    const trailersOnly = (atBackend: ServerHttp2Stream) =>
      atBackend.respond(
        { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '0' },
        { endStream: true },
      );
    let refused: ClientHttp2Stream | undefined;
    let answered = 0;
    for (let attempt = 2; attempt <= 1000 && refused === undefined; attempt++) {
      const probe = open(reader);
      const outcome = await Promise.race([
        closed(probe).then(() => probe),
        backend.stream(attempt).then(trailersOnly),
      ]);
      if (outcome !== undefined) refused = outcome;
      else {
        answered++;
        await closed(probe);
      }
    }
    expect(refused?.rstCode).toBe(constants.NGHTTP2_REFUSED_STREAM);
    expect(backend.streams.length).toBe(1 + answered);
  });

  it('sends a backend connection no more cancellations than its budget: the next calls go on a new one', async () => {
    await start({ backendResetBurst: 3, backendResetsPerSecond: 1 });
    const client = session();
    for (let i = 1; i <= 3; i++) {
      const call = open(client);
      const atBackend = await backend.stream(i);
      call.close(constants.NGHTTP2_CANCEL);
      await once(atBackend, 'close');
      expect(atBackend.rstCode).toBe(constants.NGHTTP2_CANCEL);
    }
    const next = open(client);
    answerHeld(await backend.stream(4));
    await closed(next);
    expect(next.rstCode).toBe(constants.NGHTTP2_NO_ERROR);
    // The three cancellations went on the first connection; the next call on a second one.
    expect(backend.connections.length).toBe(2);
    expect(backend.streamConnections).toEqual([0, 0, 0, 1]);
  });
});
