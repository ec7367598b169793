/**
 * Mirror memory (issue 14, DESIGN.md rule 15): through the `grpc-proxy` command on each engine, a
 * route whose mirror never reads (window 0, never answers) while clients stream 40 calls × 2 MiB
 * in 64 KiB messages (80 MiB, forty times `MIRROR_BUFFER_BYTES`): every call gets all its
 * messages from the primary, every copy is dropped (counted by
 * `grpc_proxy_mirrored_calls_total{outcome="dropped"}`), the proxy's RSS grows by less than the
 * bound below, and it serves calls afterwards. The figures are printed as `[e2e] <engine> mirror:`.
 */
import { status } from '@grpc/grpc-js';
import { callBidi, callEcho, echoRequest, type EchoServiceClient } from '@grpc-proxy/testing';
import { mib, sampleRss, type ProxyProcess } from '../src';
import { metricValue, startStuckMirror } from './support/mirror-stuck';
import { ENGINES, useHarness } from './support/use-harness';

/** `MIRROR_BUFFER_BYTES` of `@grpc-proxy/handler` (1 MiB): what a copy may hold untaken. */
const MIRROR_BUFFER_BYTES = 1024 * 1024;
const MESSAGE = 64 * 1024;
const MESSAGES = 32; // 2 MiB a call
const CALLS = 40;
const CONCURRENT = 10; // callers, each making CALLS / CONCURRENT calls one after the other
const WARM_UP_CALLS = 2; // before the baseline: connections (primary and mirror) up, code warm

/**
 * The most the proxy's RSS may grow (peak during the calls minus RSS before): each of the
 * `CONCURRENT` copies holds at most `MIRROR_BUFFER_BYTES` plus the message that went past it
 * (the mirror's window is 0, so its transport takes nothing), plus 64 MiB for what the primary
 * traffic itself costs (80 MiB through the proxy and back: stream buffers and heap churn before a
 * GC; measured at 50-55 MiB on both engines, so the allowance leaves room on a loaded machine).
 * A proxy that kept each copy until `mirrorTimeoutMs` (10 s) after its call would add the 80 MiB
 * of copies on top of that traffic cost: well past the bound.
 */
const RSS_GROWTH_BOUND = CONCURRENT * (MIRROR_BUFFER_BYTES + MESSAGE) + 64 * 1024 * 1024;

describe.each(ENGINES)('mirror memory (%s engine)', (engine) => {
  const h = useHarness({ engine });

  const requests = Array.from({ length: MESSAGES }, (_, i) =>
    echoRequest({ payload: Buffer.alloc(MESSAGE, i) }),
  );

  /** One 2 MiB bidi call: OK, every message echoed in order by the primary. */
  async function streamCall(client: EchoServiceClient): Promise<void> {
    const outcome = await callBidi(client, requests);
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses).toHaveLength(MESSAGES);
    // Buffer.equals: jest's deep equality walks 2 MiB byte by byte (seconds a call).
    const wrong = outcome.responses.filter(
      (response, i) => !requests[i].payload.equals(response.payload),
    );
    expect(wrong).toHaveLength(0);
  }

  async function dropped(admin: string): Promise<{ dropped: number; all: number }> {
    const text = await (await fetch(`http://${admin}/metrics`)).text();
    const name = 'grpc_proxy_mirrored_calls_total';
    return {
      dropped: metricValue(text, name, { backend: 'shadow', outcome: 'dropped' }),
      all: metricValue(text, name, {}),
    };
  }

  function adminOf(proxy: ProxyProcess): string {
    const line = proxy.process.lines.find((text) => text.includes('"admin"'));
    return (JSON.parse(line!) as { admin: string }).admin;
  }

  it('a mirror that never reads: every call whole, every copy dropped, RSS bounded', async () => {
    const primary = await h.echoCli();
    const stuck = h.own(await startStuckMirror(), (mirror) => mirror.close());
    const proxy = await h.proxy({
      config: {
        admin: { listen: '127.0.0.1:0' },
        backends: [
          { name: 'primary', targets: [primary.address] },
          { name: 'shadow', targets: [stuck.address] },
        ],
        defaultBackend: 'primary',
        mirror: { backend: 'shadow', percent: 100 },
      },
    });
    const admin = adminOf(proxy);
    const client = h.echoClient(proxy.address);
    for (let i = 0; i < WARM_UP_CALLS; i++) await streamCall(client);
    const rssBefore = proxy.kernelMemory().rss;

    const sampler = sampleRss(proxy.process.pid, 10);
    const started = performance.now();
    let peak: number;
    try {
      await Promise.all(
        Array.from({ length: CONCURRENT }, async () => {
          for (let i = 0; i < CALLS / CONCURRENT; i++) await streamCall(client);
        }),
      );
    } finally {
      peak = sampler.stop();
    }
    const elapsedMs = performance.now() - started;

    const total = WARM_UP_CALLS + CALLS;
    // A copy is counted once it ended; each went past the budget while its call streamed.
    let counts = await dropped(admin);
    for (let polls = 0; polls < 200 && counts.all < total; polls++) {
      await new Promise((resolve) => setTimeout(resolve, 25)); // bounded poll: 5 s at most
      counts = await dropped(admin);
    }
    expect(counts).toEqual({ dropped: total, all: total });

    const growth = peak - rssBefore;
    console.log(
      `[e2e] ${engine} mirror: ${CALLS} calls × ${mib(MESSAGE * MESSAGES)} (${CONCURRENT} at once) ` +
        `in ${Math.round(elapsedMs)} ms, ${counts.dropped} copies dropped, ` +
        `${stuck.streams.length} reached the mirror, proxy RSS +${mib(growth)} ` +
        `(bound ${mib(RSS_GROWTH_BOUND)}, before ${mib(rssBefore)}, peak ${mib(peak)})`,
    );
    expect(growth).toBeLessThan(RSS_GROWTH_BOUND);

    // Healthy afterwards: a call goes through, the process is still running.
    const after = await callEcho(client, echoRequest({ payload: Buffer.from('after') }));
    expect(after.status.code).toBe(status.OK);
    expect(proxy.process.child.exitCode).toBeNull();
  });
});
