import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, status as Status } from '@grpc/grpc-js';
import { callEcho, echoRequest } from './client-calls';
import { createEchoClient } from './echo-client';
import type { EchoClientOptions } from './echo-client';
import type { EchoServiceClient } from './gen/grpc_proxy/testing/v1/echo';
import { buildCli, firstLine, spawnCli } from './test-support/cli-process';
import type { CliProcess } from './test-support/cli-process';

let cli: CliProcess | undefined;
let client: EchoServiceClient | undefined;

beforeAll(() => buildCli(), 180_000);

afterEach(async () => {
  client?.close();
  client = undefined;
  if (cli !== undefined && cli.child.exitCode === null && cli.child.signalCode === null) {
    cli.child.kill('SIGKILL');
    await cli.exited;
  }
  cli = undefined;
});

/** Starts the command and connects a client to the address it prints. */
async function startCli(
  args: string[],
  options: EchoClientOptions = {},
): Promise<{ address: string; client: EchoServiceClient }> {
  cli = spawnCli(args);
  const line = await firstLine(cli);
  const match = /^listening (\S+)$/.exec(line);
  if (match === null) throw new Error(`unexpected first line: ${JSON.stringify(line)}`);
  client = createEchoClient(match[1], options);
  return { address: match[1], client };
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

      cli!.child.kill(signal);
      expect(await cli!.exited).toEqual({ code: 0, signal: null });
      expect(cli!.stderr()).toContain(`${signal}, stopping`);
    },
  );

  it('serves TLS with the given certificate', async () => {
    const tls = join(__dirname, 'test-support', 'tls');
    const started = await startCli(
      ['--tls-cert', join(tls, 'server.pem'), '--tls-key', join(tls, 'server.key')],
      { credentials: credentials.createSsl(readFileSync(join(tls, 'ca.pem'))) },
    );

    const outcome = await callEcho(started.client, echoRequest());
    expect(outcome.status.code).toBe(Status.OK);
    cli!.child.kill('SIGTERM');
    expect(await cli!.exited).toEqual({ code: 0, signal: null });
  });

  it('listens on a unix socket', async () => {
    const path = join(tmpdir(), `grpc-proxy-echo-${process.pid}.sock`);
    const started = await startCli(['--unix-socket', path]);
    expect(started.address).toBe(`unix:${path}`);

    const outcome = await callEcho(started.client, echoRequest());
    expect(outcome.responses[0].serverName).toBe('echo');
    cli!.child.kill('SIGTERM');
    expect(await cli!.exited).toEqual({ code: 0, signal: null });
  });

  it('rejects a bad option with exit code 1 and says why', async () => {
    cli = spawnCli(['--port', 'eighty']);
    expect(await cli.exited).toEqual({ code: 1, signal: null });
    expect(cli.stderr()).toContain(`argument 'eighty' is invalid`);
  });

  it('fails with exit code 1 when TLS is half configured', async () => {
    cli = spawnCli(['--tls-cert', 'cert.pem']);
    expect(await cli.exited).toEqual({ code: 1, signal: null });
    expect(cli.stderr()).toContain('--tls-cert and --tls-key go together');
  });
});
