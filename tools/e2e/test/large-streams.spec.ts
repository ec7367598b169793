/**
 * Large streams to a client that reads slowly (issue 18): through the `grpc-proxy` command on
 * each engine, with its default limits, one client connection runs 10 (then 100, the default
 * `maxConcurrentStreams`) server-streaming calls at a time, each 2 MiB in 64 KiB messages, and
 * takes each message 10 ms after the previous one, so the proxy holds replies for it all along
 * (grpc-js's server call buffers up to 16 messages a call: 10 MiB for 10 calls; the http2
 * engine's streams ~40 KiB each: over 4 MiB for 100), past the 4 MiB unsent-bytes budget. A
 * client that reads is no zero-window reader: no call may be refused, every call completes. The
 * figures are printed as `[e2e] <engine> large streams:`.
 */
import { Metadata, status } from '@grpc/grpc-js';
import { createEchoClient, echoRequest, type EchoServiceClient } from '@grpc-proxy/testing';
import type { ProxyProcess } from '../src';
import { metricValue } from './support/mirror-stuck';
import { ENGINES, useHarness } from './support/use-harness';

const MESSAGE = 64 * 1024;
const MESSAGES = 32; // 2 MiB a call
/** How long the client takes over each message: slower than the proxy and the backend write. */
const READ_DELAY_MS = 10;

interface Outcome {
  code: number;
  details: string;
  messages: number;
  bytes: number;
}

describe.each(ENGINES)('large streams to a slow client (%s engine)', (engine) => {
  const h = useHarness({ engine });

  /** One server-streaming call of 2 MiB, read slowly: its status once every message was read. */
  function slowCall(client: EchoServiceClient): Promise<Outcome> {
    const call = client.serverStream(
      echoRequest({ responseCount: MESSAGES, responseSize: MESSAGE }),
      new Metadata(),
    );
    const outcome: Outcome = { code: -1, details: '', messages: 0, bytes: 0 };
    call.on('data', (response: { payload: Buffer }) => {
      outcome.messages++;
      outcome.bytes += response.payload.length;
      // Reading, slowly: the next message is taken READ_DELAY_MS later.
      call.pause();
      setTimeout(() => call.resume(), READ_DELAY_MS);
    });
    call.on('error', () => undefined); // the status says it
    // grpc-js emits 'status' while messages may still wait in the paused stream: 'end' too.
    const ended = new Promise((resolve) => call.on('end', resolve));
    const final = new Promise<void>((resolve) =>
      call.on('status', ({ code, details }) => {
        Object.assign(outcome, { code, details });
        resolve();
      }),
    );
    return Promise.all([final, ended]).then(() => outcome);
  }

  function adminOf(proxy: ProxyProcess): string {
    const line = proxy.process.lines.find((text) => text.includes('"admin"'));
    return (JSON.parse(line!) as { admin: string }).admin;
  }

  // Callers on one client connection, each making its calls one after the other.
  it.each([
    [10, 3],
    [100, 2],
  ])(
    '%i streams of 2 MiB at a time on one connection (%i calls each), the client slow but reading: no call refused, all complete',
    async (CALLERS, CALLS_EACH) => {
      const CALLS = CALLERS * CALLS_EACH;
      const echo = await h.echoCli();
      const proxy = await h.proxy({
        config: {
          admin: { listen: '127.0.0.1:0' },
          backends: [{ name: 'echo', targets: [echo.address] }],
          defaultBackend: 'echo',
        },
      });
      // One connection, no retries: a refused stream would otherwise be retried once, unseen.
      const client = h.own(
        createEchoClient(proxy.address, { channelOptions: { 'grpc.enable_retries': 0 } }),
        (made) => made.close(),
      );
      const started = performance.now();
      const outcomes = (
        await Promise.all(
          Array.from({ length: CALLERS }, async () => {
            const mine: Outcome[] = [];
            for (let i = 0; i < CALLS_EACH; i++) mine.push(await slowCall(client));
            return mine;
          }),
        )
      ).flat();
      const elapsedMs = performance.now() - started;

      const failed = outcomes.filter((outcome) => outcome.code !== status.OK);
      console.log(
        `[e2e] ${engine} large streams: ${CALLS} calls × 2 MiB (${CALLERS} at once on one ` +
          `connection, ${READ_DELAY_MS} ms a message) in ${Math.round(elapsedMs)} ms, ` +
          `${failed.length} failed`,
      );
      expect(failed).toEqual([]);
      expect(outcomes).toHaveLength(CALLS);
      const whole = outcomes.filter(
        (o) => o.messages === MESSAGES && o.bytes === MESSAGE * MESSAGES,
      );
      expect(whole).toHaveLength(CALLS);
      // Every call reached the backend once and ended OK there: none refused, none retried.
      const text = await (await fetch(`http://${adminOf(proxy)}/metrics`)).text();
      expect(metricValue(text, 'grpc_proxy_calls_total', {})).toBe(CALLS);
      expect(metricValue(text, 'grpc_proxy_calls_total', { grpc_code: 'OK' })).toBe(CALLS);
    },
  );
});
