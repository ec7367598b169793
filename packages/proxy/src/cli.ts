#!/usr/bin/env node
import { runCommand } from './command';
import { tuneHeapForProxying } from './heap-tuning';

// Before any traffic: see tuneHeapForProxying for why the command's heap needs more slack.
tuneHeapForProxying();

// The only process.exit of the command: the proxy's sockets, timers and health checks are
// closed by then, but a stray handle must not keep a stopped proxy's process alive.
runCommand(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  signals: process,
}).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`grpc-proxy: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
