import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import {
  callBidi,
  callEcho,
  createEchoClient,
  echoRequest,
  resolveBin,
  startEchoServer,
  startNodeProcess,
  type EchoServerHandle,
  type EchoServiceClient,
  type NodeProcess,
} from '@grpc-proxy/testing';
import { parsePrometheus, sumOf } from './test-support/prometheus';

// The real bin (bin/grpc-proxy.js requires dist/cli.js: build the package first).
const BIN = resolveBin('@grpc-proxy/proxy', 'grpc-proxy');
const STARTUP_TIMEOUT_MS = 20_000;
const SERVICE = 'grpc_proxy.testing.v1.EchoService';

interface LogLine {
  msg: string;
  [field: string]: unknown;
}

describe.each(['http2', 'grpc-js'] as const)('grpc-proxy bin: mirror (%s engine)', (engine) => {
  let dir: string;
  let backends: EchoServerHandle[] = [];
  let proxy: NodeProcess | undefined;
  let client: EchoServiceClient | undefined;
  /** The primary's and the mirror's addresses in the config. */
  let targets: string[] = [];

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'grpc-proxy-mirror-'));
  });
  afterEach(async () => {
    client?.close();
    await proxy?.stop('SIGKILL');
    await Promise.all(backends.map((backend) => backend.close()));
    rmSync(dir, { recursive: true, force: true });
    client = proxy = undefined;
    backends = [];
  });

  /** Waits for the `count`-th log line `matches` accepts (the proxy writes one line per event). */
  function nthLog(count: number, matches: (line: LogLine) => boolean): Promise<LogLine> {
    let seen = 0;
    return proxy!.waitForLine((text) => {
      const line = text.startsWith('{') ? (JSON.parse(text) as LogLine) : undefined;
      if (line === undefined || !matches(line)) return undefined;
      seen += 1;
      return seen === count ? line : undefined;
    }, STARTUP_TIMEOUT_MS);
  }

  async function startBackends(): Promise<EchoServerHandle[]> {
    backends = await Promise.all(['primary', 'shadow'].map((name) => startEchoServer({ name })));
    targets = backends.map((backend) => backend.address);
    return backends;
  }

  /** Writes the config (two backends, debug logs, `metadata.mirrorHeader`, then `extra`). */
  function writeConfig(extra: string): string {
    const config = path.join(dir, 'proxy.yaml');
    writeFileSync(
      config,
      `engine: ${engine}
listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
log: { level: debug }
backends:
  - { name: primary, targets: ["${targets[0]}"] }
  - { name: shadow, targets: ["${targets[1]}"] }
defaultBackend: primary
metadata: { mirrorHeader: x-shadow-copy }
${extra}
`,
    );
    return config;
  }

  /** Starts the bin on that config; resolves with its listening line and a client of it. */
  async function startProxy(
    extra: string,
  ): Promise<{ listening: LogLine; client: EchoServiceClient }> {
    proxy = startNodeProcess({
      script: BIN,
      args: ['--config', writeConfig(extra), '--log-format', 'json'],
    });
    const listening = await nthLog(1, (line) => line.msg === 'grpc-proxy listening');
    client = createEchoClient((listening.addresses as string[])[0]);
    return { listening, client };
  }

  it('answers from the primary, copies every call to the mirror with its header, counts the copies', async () => {
    const [primary, shadow] = await startBackends();
    const { listening, client } = await startProxy(
      `routes:\n  - { service: ${SERVICE}, backend: primary, mirror: { backend: shadow, percent: 100 } }`,
    );

    const payloads = ['one', 'two', 'three'].map((text) => Buffer.from(text));
    for (const payload of payloads) {
      const outcome = await callEcho(client, echoRequest({ payload }));
      expect([outcome.status.code, outcome.responses[0].serverName]).toEqual([
        status.OK,
        'primary',
      ]);
    }
    const bidi = await callBidi(client, [
      echoRequest({ payload: Buffer.from('b1') }),
      echoRequest(),
    ]);
    expect(bidi.status.code).toBe(status.OK);
    expect(bidi.responses.map((response) => response.serverName)).toEqual(['primary', 'primary']);

    // One debug line per copy, written after the copy was counted.
    await nthLog(4, (line) => line.msg === 'mirrored copy completed');
    expect(primary.calls.map((call) => call.metadata.get('x-shadow-copy'))).toEqual([
      [],
      [],
      [],
      [],
    ]);
    expect(shadow.calls.map((call) => [call.method, call.metadata.get('x-shadow-copy')])).toEqual([
      [`/${SERVICE}/Echo`, ['1']],
      [`/${SERVICE}/Echo`, ['1']],
      [`/${SERVICE}/Echo`, ['1']],
      [`/${SERVICE}/Bidi`, ['1']],
    ]);
    expect(shadow.calls.map((call) => call.requests.map((request) => request.payload))).toEqual(
      primary.calls.map((call) => call.requests.map((request) => request.payload)),
    );

    const metrics = await fetch(`http://${listening.admin as string}/metrics`);
    const samples = parsePrometheus(await metrics.text());
    expect(
      sumOf(samples, 'grpc_proxy_mirrored_calls_total', {
        backend: 'shadow',
        outcome: 'completed',
      }),
    ).toBe(4);
    expect(sumOf(samples, 'grpc_proxy_mirrored_calls_total', {})).toBe(4);
    expect(sumOf(samples, 'grpc_proxy_calls_total', { backend: 'primary' })).toBe(4);
    expect(sumOf(samples, 'grpc_proxy_calls_total', {})).toBe(4);
  });

  it('picks up a mirror added by a reload for new calls, without a restart', async () => {
    const [primary, shadow] = await startBackends();
    const { client } = await startProxy('');
    expect((await callEcho(client, echoRequest())).status.code).toBe(status.OK);
    writeConfig('mirror: { backend: shadow }');
    proxy!.child.kill('SIGHUP');
    const reloaded = await nthLog(1, (line) => line.msg === 'config reloaded');
    expect([reloaded.result, reloaded.changed, reloaded.restartRequired]).toEqual([
      'success',
      ['mirror'],
      [],
    ]);
    expect((await callEcho(client, echoRequest())).status.code).toBe(status.OK);
    await nthLog(1, (line) => line.msg === 'mirrored copy completed');
    expect(primary.calls).toHaveLength(2);
    expect(shadow.calls.map((call) => call.metadata.get('x-shadow-copy'))).toEqual([['1']]);
  });

  it('keeps answering, and ready, while the mirror backend is down: its copies count as failed', async () => {
    const [primary, shadow] = await startBackends();
    await shadow.close();
    backends = [primary];
    const { listening, client } = await startProxy('mirror: { backend: shadow }');
    for (let i = 0; i < 3; i += 1) {
      const outcome = await callEcho(client, echoRequest());
      expect([outcome.status.code, outcome.responses[0].serverName]).toEqual([
        status.OK,
        'primary',
      ]);
    }
    await nthLog(3, (line) => line.msg === 'mirrored copy failed');
    const admin = listening.admin as string;
    const samples = parsePrometheus(await (await fetch(`http://${admin}/metrics`)).text());
    expect(
      sumOf(samples, 'grpc_proxy_mirrored_calls_total', { backend: 'shadow', outcome: 'failed' }),
    ).toBe(3);
    expect(sumOf(samples, 'grpc_proxy_mirrored_calls_total', {})).toBe(3);
    expect(sumOf(samples, 'grpc_proxy_calls_total', { grpc_code: 'OK' })).toBe(3);
    const ready = await fetch(`http://${admin}/readyz`);
    expect([ready.status, await ready.text()]).toEqual([200, 'ready\n']);
  });
});
