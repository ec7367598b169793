import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import {
  callEcho,
  createTestPki,
  echoRequest,
  startEchoServer,
  type EchoServerHandle,
  type TestPki,
} from '@grpc-proxy/testing';
import {
  runToExit,
  startListening,
  stopCommands,
  type CommandRun,
  type LogLine,
} from './test-support/command-run';
import { answeredBy, echoClients, openRunningStream } from './test-support/echo-clients';
import { parsePrometheus, sumOf } from './test-support/prometheus';

/** The result of a reload from backend `a` to backend `b`. */
const switchedToB = (addresses: readonly string[]) => ({
  result: 'success',
  changed: ['backends', 'defaultBackend'],
  backends: { added: ['b'], removed: ['a'], replaced: [] },
  restartRequired: [],
  addresses,
});

/** The `n`th "config reloaded" or "config reload failed" line, once logged. */
function nthReload(run: CommandRun, n: number): Promise<LogLine> {
  const reloads = () => run.logs.filter((line) => line.msg.startsWith('config reload'));
  return run.waitForLog(() => reloads().length >= n, `reload ${n}`).then(() => reloads()[n - 1]);
}

async function postReload(admin: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://${admin}/reload`, { method: 'POST' });
  return { status: response.status, body: await response.text() };
}

/** A port nothing listens on now (bound, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.each(['grpc-js', 'http2'])(
  'grpc-proxy command --engine %s: reload (in-process)',
  (engine) => {
    let pki: TestPki;
    let backends: EchoServerHandle[] = [];
    const clients = echoClients();

    beforeAll(() => (pki = createTestPki()));
    afterAll(() => pki.remove());
    afterEach(async () => {
      clients.closeAll();
      await stopCommands();
      backends.forEach((backend) => backend.forceClose());
      backends = [];
    });

    /** Writes `proxy.yaml` in the PKI's directory (where the certificates are). */
    function writeConfig(body: string): string {
      const file = path.join(pki.dir, 'proxy.yaml');
      writeFileSync(file, `engine: ${engine}\n${body}`);
      return file;
    }

    const only = (backend: EchoServerHandle) =>
      `backends: [{ name: ${backend.name}, targets: ["${backend.address}"] }]\n`;

    it('SIGHUP: new calls go to the new backend, a running stream ends on the old one, which then closes', async () => {
      backends = await Promise.all(['a', 'b'].map((name) => startEchoServer({ name })));
      const [a, b] = backends;
      const file = writeConfig(`listen: 127.0.0.1:0\n${only(a)}`);
      const { run, addresses } = await startListening(['--config', file]);
      const client = clients.connect(addresses[0]);
      expect(await answeredBy(client)).toBe('a');
      const session = await openRunningStream(client);

      writeConfig(`listen: 127.0.0.1:0\n${only(b)}`);
      run.signal('SIGHUP');
      const reloaded = await nthReload(run, 1);
      expect(reloaded).toMatchObject({
        msg: 'config reloaded',
        level: 30,
        ...switchedToB(addresses),
      });
      expect(await answeredBy(client)).toBe('b');
      expect(await answeredBy(clients.connect(addresses[0]))).toBe('b');

      // Backend a stays open while the stream it serves runs, and closes when it ends.
      const closedA = (line: LogLine) =>
        line.msg === 'backend a closed: replaced, and its calls ended';
      expect(run.logs.filter(closedA)).toEqual([]);
      session.call.write(echoRequest({ payload: Buffer.from('during') }));
      expect((await session.nextResponse()).serverName).toBe('a');
      session.call.end();
      expect((await session.outcome).status.code).toBe(status.OK);
      await run.waitForLog(closedA, 'backend a closed');
      expect(a.calls.map((call) => call.method.split('/')[2])).toEqual(['Echo', 'Bidi']);
    });

    it("POST /reload: an invalid file gets check-config's report (400), and the running config stays", async () => {
      backends = await Promise.all(['a', 'b'].map((name) => startEchoServer({ name })));
      const [a, b] = backends;
      const base = `listen: 127.0.0.1:0\nadmin: { listen: 127.0.0.1:0 }\n`;
      const file = writeConfig(base + only(a));
      const { run, addresses, admin } = await startListening(['--config', file]);
      const client = clients.connect(addresses[0]);

      writeConfig(`${base}backends: [{ name: b, targets: [] }]\n`);
      const rejected = await postReload(admin!);
      const checked = await runToExit(['check-config', file]);
      expect(checked.code).toBe(2);
      expect(rejected).toEqual({ status: 400, body: checked.stderr.replace(/^grpc-proxy: /, '') });
      expect(rejected.body).toBe(
        `invalid config ${file}:\n` + '  backends[0].targets: must NOT have fewer than 1 items\n',
      );
      expect(await nthReload(run, 1)).toMatchObject({
        msg: 'config reload failed; the running config stays',
        level: 50,
        result: 'failure',
        error: rejected.body.trimEnd(),
      });
      expect(await answeredBy(client)).toBe('a');

      writeConfig(base + only(b));
      const accepted = await postReload(admin!);
      expect(accepted.status).toBe(200);
      expect(JSON.parse(accepted.body)).toEqual(switchedToB(addresses));
      expect(await answeredBy(client)).toBe('b');

      await run.waitForLog((line) => line.msg.startsWith('backend a closed'), 'backend a closed');
      const samples = parsePrometheus(await (await fetch(`http://${admin}/metrics`)).text());
      // Backend a's health series went with it; b's came.
      const up = samples.filter((sample) => sample.name === 'grpc_proxy_backend_up');
      expect(up.map((sample) => [sample.labels.backend, sample.value])).toEqual([['b', 1]]);
      const reloads = 'grpc_proxy_config_reloads_total';
      expect([
        sumOf(samples, reloads, { result: 'success' }),
        sumOf(samples, reloads, { result: 'failure' }),
      ]).toEqual([1, 1]);
      const lastSuccess = sumOf(samples, 'grpc_proxy_config_last_reload_success_timestamp_seconds');
      expect(Math.abs(lastSuccess - Date.now() / 1000)).toBeLessThan(30);
      // Nothing changed: still a success, with nothing to report.
      expect(JSON.parse((await postReload(admin!)).body)).toMatchObject({ changed: [] });
      expect((await fetch(`http://${admin}/reload`)).status).toBe(405);
    });

    it('limits: new connections get the new message limit (grpc-js engine; http2: after a restart)', async () => {
      backends = [await startEchoServer({ name: 'a' })];
      const file = writeConfig(`listen: 127.0.0.1:0\n${only(backends[0])}`);
      const { run, addresses } = await startListening(['--config', file]);
      const big = echoRequest({ payload: Buffer.alloc(2000) });
      const before = clients.connect(addresses[0]);
      expect((await callEcho(before, big)).status.code).toBe(status.OK);

      writeConfig(`listen: 127.0.0.1:0\nlimits: { maxMessageBytes: 1000 }\n${only(backends[0])}`);
      run.signal('SIGHUP');
      const reloaded = await nthReload(run, 1);
      const after = clients.connect(addresses[0], {
        channelOptions: { 'grpc.use_local_subchannel_pool': 1 },
      });
      if (engine === 'grpc-js') {
        expect(reloaded).toMatchObject({ level: 30, changed: ['limits'], restartRequired: [] });
        const refused = await callEcho(after, big);
        expect([refused.status.code, refused.responses]).toEqual([status.RESOURCE_EXHAUSTED, []]);
      } else {
        expect(reloaded).toMatchObject({ level: 40, changed: [], restartRequired: ['limits'] });
        expect((await callEcho(after, big)).status.code).toBe(status.OK);
      }
      expect(await answeredBy(after)).toBe('a');
    });

    it('a new listen address is open before the old one closes; a stream on the old one finishes', async () => {
      backends = [await startEchoServer({ name: 'a' })];
      const admin = 'admin: { listen: 127.0.0.1:0 }\n';
      const file = writeConfig(`listen: 127.0.0.1:0\n${admin}${only(backends[0])}`);
      const started = await startListening(['--config', file]);
      const old = started.addresses[0];
      const session = await openRunningStream(clients.connect(old));

      const moved = `127.0.0.1:${await freePort()}`;
      writeConfig(`listen: ${moved}\n${admin}${only(backends[0])}`);
      const reload = await postReload(started.admin!);
      expect(JSON.parse(reload.body)).toMatchObject({ changed: ['listen'], addresses: [moved] });
      expect(await answeredBy(clients.connect(moved))).toBe('a');
      expect(await answeredBy(clients.connect(old))).toBe(status.UNAVAILABLE);

      session.call.write(echoRequest({ payload: Buffer.from('during') }));
      expect((await session.nextResponse()).payload.toString()).toBe('during');
      session.call.end();
      expect((await session.outcome).status.code).toBe(status.OK);
    });
  },
);
