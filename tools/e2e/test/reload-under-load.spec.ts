import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startNodeProcess } from '@grpc-proxy/testing';
import {
  failedCalls,
  parseListeningAddress,
  proxyCommandPath,
  startUnaryLoad,
  STARTUP_TIMEOUT_MS,
  waitUntil,
  type BackendProcess,
} from '../src';
import { ENGINES, useHarness } from './support/use-harness';

// Issue 15: SIGHUP re-reads the config while callers run the whole time. Each reload moves the
// one backend group from one backend process to the other, and changes a client limit (the
// grpc-js engine then serves new connections with a new grpc-js server while the old one sends
// GOAWAY and drains; the http2 engine keeps its limits until a restart). No call may fail, and
// once a reload is logged every new call reaches the new backend.

/** Concurrent callers of the load. */
const CALLERS = 20;
/** Reloads in a row, alternating the backend. */
const RELOADS = 6;
/** Calls the new backend must serve after each reload before the next one. */
const CALLS_PER_STEP = 500;

function report(engine: string, line: string): void {
  process.stdout.write(`[e2e] ${engine}: ${line}\n`);
}

/** Calls the proxy's metrics count as ended on `backend` (the probe backend logs no unary call). */
async function callsOf(admin: string, backend: BackendProcess): Promise<number> {
  const text = await (await fetch(`http://${admin}/metrics`)).text();
  const lines = text.split('\n').filter((line) => line.startsWith('grpc_proxy_calls_total{'));
  return lines
    .filter((line) => line.includes(`target="${backend.address}"`))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

/** Resolves once `backend` has served `count` calls; rejects after `timeoutMs`. */
async function untilCalls(admin: string, backend: BackendProcess, count: number, what: string) {
  const giveUpAt = performance.now() + 20_000;
  while ((await callsOf(admin, backend)) < count) {
    if (performance.now() > giveUpAt) throw new Error(`timed out after 20000 ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each(ENGINES)('config reload under load, through the command (%s engine)', (engine) => {
  const h = useHarness({ engine });

  it(`${RELOADS} reloads switching the backend under ${CALLERS} callers: no failed call, new calls on the new backend`, async () => {
    const backends = [await h.backend(), await h.backend()];
    const dir = h.own(mkdtempSync(path.join(tmpdir(), 'e2e-reload-')), (created) =>
      rmSync(created, { recursive: true, force: true }),
    );
    const file = path.join(dir, 'proxy.json');
    const writeConfig = (backend: BackendProcess, maxConcurrentStreams: number) =>
      writeFileSync(
        file,
        JSON.stringify({
          engine,
          listen: '127.0.0.1:0',
          admin: { listen: '127.0.0.1:0' },
          limits: { maxConcurrentStreams },
          backends: [{ name: 'svc', targets: [backend.address] }],
        }),
      );
    writeConfig(backends[0], 100);
    const proxy = h.own(
      startNodeProcess({
        script: proxyCommandPath(),
        args: ['--config', file],
        name: 'grpc-proxy',
      }),
      (child) => child.stop('SIGTERM'),
    );
    const address = await proxy.waitForLine(parseListeningAddress, STARTUP_TIMEOUT_MS);
    const admin = (
      JSON.parse(proxy.lines.find((line) => line.includes('"admin"'))!) as {
        admin: string;
      }
    ).admin;
    const reloads = () => proxy.lines.filter((line) => line.includes('"msg":"config reloaded"'));
    const client = h.probeClient(address);
    const load = h.own(startUnaryLoad(client, { callers: CALLERS }), (running) => running.stop());
    await untilCalls(admin, backends[0], CALLS_PER_STEP, 'calls on backend 0');

    const lateOldCalls: number[] = [];
    for (let step = 1; step <= RELOADS; step++) {
      const [old, next] = step % 2 === 1 ? backends : [backends[1], backends[0]];
      writeConfig(next, step % 2 === 1 ? 200 : 100);
      proxy.child.kill('SIGHUP');
      await waitUntil(() => reloads().length >= step, 10_000, `reload ${step} logged`);
      const oldAtReload = await callsOf(admin, old);
      const nextAtReload = await callsOf(admin, next);
      await untilCalls(
        admin,
        next,
        nextAtReload + CALLS_PER_STEP,
        `${CALLS_PER_STEP} calls on the new backend after reload ${step}`,
      );
      // Calls routed before the reload may reach the old backend just after it: at most one
      // per caller; none after that.
      lateOldCalls.push((await callsOf(admin, old)) - oldAtReload);
    }
    const calls = await load.stop();
    report(
      engine,
      `${RELOADS} reloads under ${CALLERS} callers: ${calls.length} calls, ` +
        `${failedCalls(calls).length} failed; calls reaching the old backend after each reload: ${lateOldCalls.join(', ')}`,
    );
    expect(failedCalls(calls)).toEqual([]);
    expect(lateOldCalls.every((late) => late <= CALLERS)).toBe(true);
    const outcome = (line: string) => {
      const { changed, restartRequired } = JSON.parse(line) as Record<string, string[]>;
      return { changed, restartRequired };
    };
    // The http2 engine keeps its starting limits: every other file asks for them again.
    const expected = (step: number) =>
      engine === 'grpc-js'
        ? { changed: ['limits', 'backends'], restartRequired: [] }
        : { changed: ['backends'], restartRequired: step % 2 === 1 ? ['limits'] : [] };
    expect(reloads().map(outcome)).toEqual(
      Array.from({ length: RELOADS }, (_, index) => expected(index + 1)),
    );
  });
});
