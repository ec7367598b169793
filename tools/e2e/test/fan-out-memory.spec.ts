/**
 * Fan-out memory (issue 14: "a held-back fan-out backend never grows the proxy's memory past the
 * stated bound"): through the `grpc-proxy` command on each engine, a bidi route fans out to an
 * echo backend and to one that never reads (stream window 0, never answers; see
 * `mirror-stuck.ts`). `CALLS` clients each try to stream `MESSAGES` × 1 MiB within a deadline:
 * the proxy reads a client's next message only once every backend took the previous one, so
 * the stuck backend holds each call at its first message: the client's writes are held back
 * (backpressure follows the slowest), the echo backend answers the first message at most, the
 * proxy's RSS grows by less than the bound below, every call ends `DEADLINE_EXCEEDED`, every leg
 * is counted, and the proxy serves a healthy call afterwards. The figures are printed as
 * `[e2e] <engine> fan-out:`.
 */
import { Metadata, status } from '@grpc/grpc-js';
import {
  callBidi,
  callEcho,
  echoRequest,
  openBidi,
  startEchoServer,
  type EchoServiceClient,
} from '@grpc-proxy/testing';
import { mib, sampleRss, waitUntil } from '../src';
import { adminOf, scrapeAtLeast } from './support/fan-out-backends';
import { startStuckMirror } from './support/mirror-stuck';
import { ENGINES, useHarness } from './support/use-harness';

const MESSAGE = 1024 * 1024;
const MESSAGES = 64; // what each client tries to send: 64 MiB a call
const CALLS = 4; // at once, on one client connection
const DEADLINE_MS = 3000;
const LEGS = 2;
/** HTTP/2's default stream window (65 535), what a client may send the proxy unasked per call. */
const STREAM_WINDOW = 65_535;

/**
 * Client messages the engine's server side reads ahead of the proxy's own reading, per call:
 * grpc-js's server call is an object-mode stream with grpc-js's default `highWaterMark` of 16
 * messages, filled before grpc-js stops reading the HTTP/2 stream, whatever the engine does; the
 * http2 engine reads the HTTP/2 stream itself and stops at once.
 */
const READ_AHEAD: Readonly<Record<string, number>> = { 'grpc-js': 16, http2: 0 };

/**
 * Messages a held-back client may see taken by its transport: the first (taken by every leg),
 * the engine's read-ahead, and one more in flight. A proxy that kept reading the client for the
 * echo backend without waiting for the stuck one would let all 64 through.
 */
function heldBackWrites(engine: string): number {
  return 1 + READ_AHEAD[engine] + 1;
}

/**
 * The most the proxy's RSS may grow (peak during the calls minus RSS before). Per call: the
 * engine's read-ahead, the client message being fanned out, one framed copy of it per leg (the
 * stuck leg's never leaves), the client's next message partly received (a message being
 * assembled, plus the stream window) and the echo's reply:
 * `(READ_AHEAD + LEGS + 3) × MESSAGE + STREAM_WINDOW`. Plus 48 MiB for the process itself (heap
 * growth, allocator caches, a loaded machine). grpc-js engine: 4 × 21 MiB + 48 MiB = 132 MiB
 * (measured +90 MiB); http2 engine: 4 × 5 MiB + 48 MiB = 68 MiB (measured +1 MiB). A proxy that buffered the client's stream for the stuck backend
 * would hold what the clients send, `CALLS × MESSAGES × MESSAGE` = 256 MiB, past both.
 */
function rssGrowthBound(engine: string): number {
  const perCall = (READ_AHEAD[engine] + LEGS + 3) * MESSAGE + STREAM_WINDOW;
  return CALLS * perCall + 48 * 1024 * 1024;
}

interface HeldBack {
  /** Messages whose write completed before the call ended. */
  readonly written: number;
  /** Messages the echo backend answered. */
  readonly responses: number;
  /** The call's status code. */
  readonly code: number;
}

describe.each(ENGINES)('fan-out memory (%s engine)', (engine) => {
  const h = useHarness({ engine });

  /** Streams up to MESSAGES messages on a fan-out call, each written once the previous was taken. */
  async function heldBackCall(client: EchoServiceClient): Promise<HeldBack> {
    const metadata = new Metadata();
    metadata.set('x-fan-out', 'yes');
    const options = { deadline: Date.now() + DEADLINE_MS };
    const session = openBidi(client, { metadata, options });
    let ended = false;
    void session.outcome.then(() => (ended = true));
    let written = 0;
    for (let i = 0; i < MESSAGES && !ended; i++) {
      const taken = new Promise<void>((resolve) =>
        session.call.write(echoRequest({ payload: Buffer.alloc(MESSAGE, i) }), () => resolve()),
      );
      // The write callback fires once grpc-js handed the message to its transport; the call
      // ending first (the deadline) frees the writer as well.
      await Promise.race([taken, session.outcome]);
      if (!ended) written += 1;
    }
    const outcome = await session.outcome;
    return { written, responses: outcome.responses.length, code: outcome.status.code };
  }

  it('a backend that never reads holds the clients back, RSS stays bounded, the proxy serves after', async () => {
    const echo = h.own(await startEchoServer({ name: 'echo' }), (server) => server.close());
    const stuck = h.own(await startStuckMirror(), (mirror) => mirror.close());
    const proxy = await h.proxy({
      config: {
        admin: { listen: '127.0.0.1:0' },
        backends: [
          { name: 'echo', targets: [echo.address] },
          { name: 'stuck', targets: [stuck.address] },
        ],
        routes: [
          {
            method: '/grpc_proxy.testing.v1.EchoService/Bidi',
            metadata: { 'x-fan-out': 'yes' },
            fanOut: { backends: ['echo', 'stuck'], responses: 'stream' },
          },
        ],
        defaultBackend: 'echo',
      },
    });
    const admin = adminOf(proxy);
    const client = h.echoClient(proxy.address);
    // Warm-up: the same message size through the proxy, to the echo backend alone.
    const warm = Array.from({ length: 8 }, (_, i) =>
      echoRequest({ payload: Buffer.alloc(MESSAGE, i) }),
    );
    expect((await callBidi(client, warm)).responses).toHaveLength(8);
    const rssBefore = proxy.kernelMemory().rss;

    const sampler = sampleRss(proxy.process.pid, 10);
    const started = performance.now();
    let results: HeldBack[];
    let peak: number;
    try {
      results = await Promise.all(Array.from({ length: CALLS }, () => heldBackCall(client)));
    } finally {
      peak = sampler.stop();
    }
    const elapsedMs = performance.now() - started;
    const growth = peak - rssBefore;
    const written = results.map((result) => result.written);
    console.log(
      `[e2e] ${engine} fan-out: ${CALLS} calls to [echo, never-reading] each trying ` +
        `${MESSAGES} × ${mib(MESSAGE)} in ${DEADLINE_MS} ms: messages written per call ` +
        `${written.join(', ')}, echoed ${results.map((r) => r.responses).join(', ')}, ` +
        `in ${Math.round(elapsedMs)} ms; proxy RSS +${mib(growth)} (bound ${mib(rssGrowthBound(engine))}, ` +
        `before ${mib(rssBefore)}, peak ${mib(peak)})`,
    );
    // Every call ends by its deadline, cleanly: the stuck backend never took the first message.
    expect(results.map((result) => result.code)).toEqual(
      Array.from({ length: CALLS }, () => status.DEADLINE_EXCEEDED),
    );
    // Held back: the next client message is read once both legs took the previous one, so the
    // client hands its transport a few messages at most, never its 64.
    // The echo backend answers the first message at most: the http2 engine stops reading the
    // client at the first chunk the stuck leg did not take, so the echo gets part of it only.
    expect(Math.max(...results.map((result) => result.responses))).toBeLessThanOrEqual(1);
    expect(Math.max(...written)).toBeLessThanOrEqual(heldBackWrites(engine));
    expect(growth).toBeLessThan(rssGrowthBound(engine));

    // Every leg counted once its call ended; the stuck backend's streams were reset.
    const name = 'grpc_proxy_fanout_backend_calls_total';
    const counted = await scrapeAtLeast(admin, name, {}, CALLS * LEGS);
    expect(counted).toBe(CALLS * LEGS);
    await waitUntil(
      () => stuck.streams.length === CALLS && stuck.streams.every((stream) => stream.closed),
      5000,
      'the stuck backend streams reset',
    );

    // Healthy afterwards: a call goes through, the process is still running.
    const after = await callEcho(client, echoRequest({ payload: Buffer.from('after') }));
    expect([after.status.code, after.responses[0]?.payload.toString()]).toEqual([
      status.OK,
      'after',
    ]);
    expect(proxy.process.child.exitCode).toBeNull();
  });
});
