#!/usr/bin/env node
import { createProgram } from './command';
import { tuneHeapForProxying } from './heap-tuning';

// Before any traffic: see tuneHeapForProxying for why the command's heap needs more slack.
tuneHeapForProxying();

createProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    process.stderr.write(`grpc-proxy: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
