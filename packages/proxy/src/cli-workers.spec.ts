import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import {
  callEcho,
  echoRequest,
  resolveBin,
  startEchoServer,
  startNodeProcess,
  type EchoServerHandle,
  type NodeProcess,
} from '@grpc-proxy/testing';
import { echoClients, openRunningStream } from './test-support/echo-clients';
import { parsePrometheus, sumOf } from './test-support/prometheus';

// The real bin with `workers: 2`: a primary and two worker processes sharing the listener
// through node:cluster (which needs a process of its own: jest's cannot be the primary).
const BIN = resolveBin('@grpc-proxy/proxy', 'grpc-proxy');
const WAIT_MS = 20_000;

interface Line {
  msg: string;
  worker?: number;
  pid?: number;
  [field: string]: unknown;
}

const parsed = (proxy: NodeProcess): Line[] =>
  proxy.lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Line);

/** Resolves with the first log line (of the primary: no `worker` field, unless `worker`) matching. */
function logged(proxy: NodeProcess, match: (line: Line) => boolean): Promise<Line> {
  return proxy.waitForLine((text) => {
    if (!text.startsWith('{')) return undefined;
    const line = JSON.parse(text) as Line;
    return match(line) ? line : undefined;
  }, WAIT_MS);
}

/** Resolves with the log lines matching `match` once there are `count` of them. */
async function loggedTimes(proxy: NodeProcess, match: (line: Line) => boolean, count: number) {
  const matching = () => parsed(proxy).filter(match);
  await proxy.waitForLine(() => (matching().length >= count ? true : undefined), WAIT_MS);
  return matching();
}

async function scrape(admin: string) {
  return parsePrometheus(await (await fetch(`http://${admin}/metrics`)).text());
}

describe.each(['grpc-js', 'http2'])(
  'grpc-proxy --workers 2 --engine %s (child processes)',
  (engine) => {
    let dir: string;
    let backend: EchoServerHandle | undefined;
    let proxy: NodeProcess | undefined;
    const clients = echoClients();

    beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'grpc-proxy-workers-'))));
    afterEach(async () => {
      clients.closeAll();
      // The primary takes its workers with it; a leftover worker would fail the next test's start.
      await proxy?.stop('SIGTERM', 10_000);
      await backend?.close();
      proxy = backend = undefined;
      rmSync(dir, { recursive: true, force: true });
    });

    async function startWorkers(extra = '') {
      backend = await startEchoServer({ name: 'backend' });
      const file = path.join(dir, 'proxy.yaml');
      writeFileSync(
        file,
        `engine: ${engine}\nworkers: 2\nlisten: 127.0.0.1:0\nadmin: { listen: 127.0.0.1:0 }\n` +
          `log: { level: debug }\nbackends: [{ name: b, targets: ["${backend.address}"] }]\n${extra}`,
      );
      proxy = startNodeProcess({ script: BIN, args: ['--config', file], name: 'grpc-proxy' });
      const listening = await logged(
        proxy,
        (line) => line.msg === 'grpc-proxy listening' && !line.worker,
      );
      return {
        file,
        address: (listening.addresses as string[])[0],
        admin: listening.admin as string,
      };
    }

    /** `count` calls, each on a connection of its own (cluster hands connections out in turn). */
    async function callsOnNewConnections(address: string, count: number): Promise<status[]> {
      const codes: status[] = [];
      for (let i = 0; i < count; i++) {
        // A subchannel pool of its own: grpc-js would otherwise share one connection.
        const client = clients.connect(address, {
          channelOptions: { 'grpc.use_local_subchannel_pool': 1 },
        });
        codes.push((await callEcho(client, echoRequest())).status.code);
      }
      return codes;
    }

    it('serves calls on both workers; /metrics sums their counters; ready when both are', async () => {
      const { address, admin } = await startWorkers();
      expect(await callsOnNewConnections(address, 8)).toEqual(Array(8).fill(status.OK));

      const calls = await loggedTimes(proxy!, (line) => line.msg === 'call', 8);
      const served = calls.map((line) => line.worker);
      expect(served).toHaveLength(8);
      expect(new Set(served)).toEqual(new Set([1, 2]));
      const samples = await scrape(admin);
      expect(sumOf(samples, 'grpc_proxy_calls_total', { grpc_code: 'OK' })).toBe(8);
      expect(sumOf(samples, 'grpc_proxy_workers')).toBe(2);
      expect(sumOf(samples, 'grpc_proxy_worker_restarts_total')).toBe(0);
      expect((await fetch(`http://${admin}/readyz`)).status).toBe(200);
    });

    it('replaces a killed worker; calls keep succeeding', async () => {
      const { address, admin } = await startWorkers();
      const workers = parsed(proxy!).filter(
        (line) => line.msg === 'grpc-proxy listening' && line.worker,
      );
      const victim = workers.find((line) => line.worker === 1)!;
      process.kill(victim.pid!, 'SIGKILL');
      await logged(proxy!, (line) => line.msg === 'worker 1 exited; a new one starts in 100 ms');
      // The other worker takes every new connection meanwhile.
      expect(await callsOnNewConnections(address, 4)).toEqual(Array(4).fill(status.OK));

      const replacement = await logged(proxy!, (line) => line.msg === 'worker started');
      expect(replacement).toMatchObject({ worker: 1 });
      expect(replacement.pid).not.toBe(victim.pid);
      expect(await callsOnNewConnections(address, 4)).toEqual(Array(4).fill(status.OK));
      const samples = await scrape(admin);
      expect(sumOf(samples, 'grpc_proxy_worker_restarts_total')).toBe(1);
      expect(sumOf(samples, 'grpc_proxy_workers')).toBe(2);
      expect((await fetch(`http://${admin}/readyz`)).status).toBe(200);
    });

    it('SIGTERM: every worker drains (a running stream completes), then the primary exits 0', async () => {
      const { address } = await startWorkers();
      const session = await openRunningStream(clients.connect(address));

      proxy!.child.kill('SIGTERM');
      await logged(proxy!, (line) => line.msg === 'draining: no new calls' && line.inFlight === 1);
      session.call.write(echoRequest({ payload: Buffer.from('during') }));
      expect((await session.nextResponse()).payload.toString()).toBe('during');
      session.call.end();
      expect((await session.outcome).status.code).toBe(status.OK);

      expect(await proxy!.exited).toEqual({ code: 0, signal: null });
      const stopped = parsed(proxy!).filter((line) => line.msg === 'grpc-proxy stopped');
      expect(stopped.map((line) => line.worker ?? 'primary').sort()).toEqual([1, 2, 'primary']);
      expect(stopped.find((line) => !line.worker)?.exitCodes).toEqual([0, 0]);
    });

    it('SIGHUP: the primary validates the file once and reports an invalid one; workers apply a valid one', async () => {
      const { file, admin } = await startWorkers();
      writeFileSync(file, `workers: 2\nbackends: []\n`);
      proxy!.child.kill('SIGHUP');
      const failed = await logged(proxy!, (line) => line.msg.startsWith('config reload failed'));
      expect(failed).toMatchObject({
        error: `invalid config ${file}:\n  backends: must NOT have fewer than 1 items`,
      });
      expect(failed.worker).toBeUndefined();

      writeFileSync(
        file,
        `engine: ${engine}\nworkers: 2\nlisten: 127.0.0.1:0\nadmin: { listen: 127.0.0.1:0 }\n` +
          `log: { level: info }\nbackends: [{ name: b, targets: ["${backend!.address}"] }]\n`,
      );
      const response = await fetch(`http://${admin}/reload`, { method: 'POST' });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ result: 'success', changed: ['log'] });
      const reloaded = await loggedTimes(proxy!, (line) => line.msg === 'config reloaded', 3);
      expect(reloaded.map((line) => line.worker ?? 'primary').sort()).toEqual([1, 2, 'primary']);
      const samples = await scrape(admin);
      expect([
        sumOf(samples, 'grpc_proxy_config_reloads_total', { result: 'success' }),
        sumOf(samples, 'grpc_proxy_config_reloads_total', { result: 'failure' }),
      ]).toEqual([1, 1]);
    });
  },
);
