#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { ServerCredentials } from '@grpc/grpc-js';
import { startEchoServer } from './echo-server';
import type { EchoServerHandle } from './echo-server';

/** Options of the `grpc-proxy-echo` command, as commander parses them. */
interface CliOptions {
  host: string;
  port: number;
  name: string;
  unixSocket?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  shutdownGraceMs: number;
}

function parseNonNegativeInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) {
    throw new InvalidArgumentError(`expected a non-negative integer, got "${value}"`);
  }
  return parsed;
}

function serverCredentials(options: CliOptions): ServerCredentials {
  if (options.tlsCert === undefined && options.tlsKey === undefined) {
    if (options.tlsCa !== undefined) throw new Error('--tls-ca needs --tls-cert and --tls-key');
    return ServerCredentials.createInsecure();
  }
  if (options.tlsCert === undefined || options.tlsKey === undefined) {
    throw new Error('--tls-cert and --tls-key go together');
  }
  const ca = options.tlsCa === undefined ? null : readFileSync(options.tlsCa);
  return ServerCredentials.createSsl(
    ca,
    [{ cert_chain: readFileSync(options.tlsCert), private_key: readFileSync(options.tlsKey) }],
    ca !== null,
  );
}

/** Stops the server on the first SIGTERM or SIGINT: gracefully, then by force after the grace. */
function stopOnSignals(server: EchoServerHandle, graceMs: number): void {
  const stop = (signal: NodeJS.Signals): void => {
    process.stderr.write(`grpc-proxy-echo: ${signal}, stopping\n`);
    const force = setTimeout(() => server.forceClose(), graceMs);
    server
      .close()
      .catch(() => server.forceClose())
      .finally(() => {
        clearTimeout(force);
        process.exit(0);
      });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('grpc-proxy-echo')
    .description(
      'Runs an echo server (grpc_proxy.testing.v1.EchoService and grpc.health.v1) and prints ' +
        '"listening <address>" on stdout once it accepts calls. Stops on SIGTERM or SIGINT.',
    )
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option('--port <port>', 'port to bind (0: any free port)', parseNonNegativeInteger, 0)
    .option('--name <name>', 'server name reported in every response', 'echo')
    .option('--unix-socket <path>', 'listen on a unix socket instead of host and port')
    .option('--tls-cert <file>', 'PEM certificate chain (enables TLS, with --tls-key)')
    .option('--tls-key <file>', 'PEM private key')
    .option('--tls-ca <file>', 'PEM CA bundle: require client certificates signed by it')
    .option(
      '--shutdown-grace-ms <ms>',
      'how long running calls may finish after a signal',
      parseNonNegativeInteger,
      5000,
    )
    .showHelpAfterError();
  program.parse(argv);
  const options = program.opts<CliOptions>();

  const server = await startEchoServer({
    name: options.name,
    host: options.host,
    port: options.port,
    unixSocketPath: options.unixSocket,
    credentials: serverCredentials(options),
  });
  stopOnSignals(server, options.shutdownGraceMs);
  process.stdout.write(`listening ${server.address}\n`);
}

main(process.argv).catch((error: unknown) => {
  process.stderr.write(
    `grpc-proxy-echo: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
