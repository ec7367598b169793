import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, status as Status } from '@grpc/grpc-js';
import { callEcho, echoRequest } from './client-calls';
import { createEchoClient } from './echo-client';
import type { EchoClientOptions } from './echo-client';
import type { EchoServiceClient } from './gen/grpc_proxy/testing/v1/echo';
import { resolveBin, runNodeProcess, startNodeProcess, type NodeProcess } from './node-process';
import { createTestPki } from './test-pki';

// The committed launcher, as npm links it; the jest global setup has built dist/cli.js.
const ECHO_BIN = resolveBin('@grpc-proxy/testing', 'grpc-proxy-echo');
const STARTUP_TIMEOUT_MS = 20_000;

let cli: NodeProcess | undefined;
let client: EchoServiceClient | undefined;

afterEach(async () => {
  client?.close();
  client = undefined;
  await cli?.stop('SIGKILL');
  cli = undefined;
});

/** Starts the command and connects a client to the address it prints first. */
async function startCli(
  args: string[],
  options: EchoClientOptions = {},
): Promise<{ address: string; client: EchoServiceClient }> {
  cli = startNodeProcess({ script: ECHO_BIN, args });
  const address = await cli.waitForLine(
    (line) => /^listening (\S+)$/.exec(line)?.[1],
    STARTUP_TIMEOUT_MS,
  );
  expect(cli.lines[0]).toBe(`listening ${address}`);
  client = createEchoClient(address, options);
  return { address, client };
}

describe('grpc-proxy-echo', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'prints its address, answers calls, and exits 0 on %s',
    async (signal) => {
      const started = await startCli(['--name', 'from-cli']);
      expect(started.address).toMatch(/^127\.0\.0\.1:[1-9][0-9]*$/);

      const outcome = await callEcho(started.client, echoRequest({ payload: Buffer.from('hi') }));
      expect(outcome.status.code).toBe(Status.OK);
      expect(outcome.responses[0].serverName).toBe('from-cli');
      expect(outcome.responses[0].payload.toString()).toBe('hi');

      expect(await cli!.stop(signal)).toEqual({ code: 0, signal: null });
      expect(cli!.stderr).toContain(`${signal}, stopping`);
    },
  );

  it('serves TLS with the given certificate', async () => {
    const pki = createTestPki();
    try {
      const ca = pki.ca('test-ca');
      const server = pki.leaf('server', ca, 'serverAuth');
      const started = await startCli(['--tls-cert', server.certFile, '--tls-key', server.keyFile], {
        credentials: credentials.createSsl(ca.cert),
        channelOptions: { 'grpc.ssl_target_name_override': 'localhost' },
      });

      const outcome = await callEcho(started.client, echoRequest());
      expect(outcome.status.code).toBe(Status.OK);
      expect(await cli!.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    } finally {
      pki.remove();
    }
  });

  it('listens on a unix socket', async () => {
    const path = join(tmpdir(), `grpc-proxy-echo-${process.pid}.sock`);
    const started = await startCli(['--unix-socket', path]);
    expect(started.address).toBe(`unix:${path}`);

    const outcome = await callEcho(started.client, echoRequest());
    expect(outcome.responses[0].serverName).toBe('echo');
    expect(await cli!.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('rejects a bad option with exit code 1 and says why', async () => {
    const result = await runNodeProcess({ script: ECHO_BIN, args: ['--port', 'eighty'] });
    expect([result.code, result.signal, result.stdout]).toEqual([1, null, '']);
    expect(result.stderr).toContain(`argument 'eighty' is invalid`);
  });

  it('fails with exit code 1 when TLS is half configured', async () => {
    const result = await runNodeProcess({ script: ECHO_BIN, args: ['--tls-cert', 'cert.pem'] });
    expect(result).toEqual({
      code: 1,
      signal: null,
      stdout: '',
      stderr: 'grpc-proxy-echo: --tls-cert and --tls-key go together\n',
    });
  });
});
