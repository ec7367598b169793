import { status } from '@grpc/grpc-js';
import {
  callEcho,
  createEchoClient,
  echoRequest,
  resolveBin,
  runNodeProcess,
  startEchoServer,
  startNodeProcess,
  type EchoServerHandle,
  type EchoServiceClient,
  type NodeProcess,
} from '@grpc-proxy/testing';

// The real bin as npm links it (bin/grpc-proxy.js requires dist/cli.js, which the jest global
// setup builds): what runs in a process of its own, with process signals and process.exit.
const BIN = resolveBin('@grpc-proxy/proxy', 'grpc-proxy');
const STARTUP_TIMEOUT_MS = 20_000;

describe('grpc-proxy bin (child process)', () => {
  let backend: EchoServerHandle | undefined;
  let proxy: NodeProcess | undefined;
  let client: EchoServiceClient | undefined;

  afterEach(async () => {
    client?.close();
    await proxy?.stop('SIGKILL');
    await backend?.close();
    client = proxy = backend = undefined;
  });

  it('serves a call, drains on SIGTERM and exits 0', async () => {
    backend = await startEchoServer({ name: 'backend' });
    proxy = startNodeProcess({
      script: BIN,
      args: ['--listen', '127.0.0.1:0', '--backend', backend.address, '--log-format', 'json'],
    });
    const address = await proxy.waitForLine(
      (line) =>
        line.includes('"msg":"grpc-proxy listening"')
          ? (JSON.parse(line) as { addresses: string[] }).addresses[0]
          : undefined,
      STARTUP_TIMEOUT_MS,
    );
    client = createEchoClient(address);
    const outcome = await callEcho(client, echoRequest({ payload: Buffer.from('hi') }));
    expect([outcome.status.code, outcome.responses[0].serverName]).toEqual([status.OK, 'backend']);

    expect(await proxy.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(proxy.stderr).toBe('');
    expect(proxy.lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual([
      'grpc-proxy listening',
      'shutting down',
      'draining: no new calls',
      'grpc-proxy stopped',
    ]);
  });

  it('reloads on a SIGHUP sent the moment it listens, and keeps serving', async () => {
    backend = await startEchoServer({ name: 'backend' });
    proxy = startNodeProcess({
      script: BIN,
      args: ['--listen', '127.0.0.1:0', '--backend', backend.address, '--log-format', 'json'],
    });
    const started = proxy;
    const address = await started.waitForLine((line) => {
      if (!line.includes('"msg":"grpc-proxy listening"')) return undefined;
      started.child.kill('SIGHUP'); // at once, from the line's own callback
      return (JSON.parse(line) as { addresses: string[] }).addresses[0];
    }, STARTUP_TIMEOUT_MS);
    await started.waitForLine(
      (line) => (line.includes('"msg":"config reloaded"') ? true : undefined),
      STARTUP_TIMEOUT_MS,
    );
    client = createEchoClient(address);
    expect((await callEcho(client, echoRequest())).status.code).toBe(status.OK);
    expect(await started.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('exits 2 on an invalid config, with the reason on stderr', async () => {
    expect(
      await runNodeProcess({ script: BIN, args: ['--listen', 'nowhere', '--backend', 'a:1'] }),
    ).toEqual({
      code: 2,
      signal: null,
      stdout: '',
      stderr:
        'grpc-proxy: invalid config (command-line flags):\n' +
        '  listen[0]: must be host:port, [ipv6]:port or unix:/path, got "nowhere"\n',
    });
  });

  it('prints its version and exits 0', async () => {
    expect(await runNodeProcess({ script: BIN, args: ['--version'] })).toEqual({
      code: 0,
      signal: null,
      stdout: '0.1.0\n',
      stderr: '',
    });
  });
});
