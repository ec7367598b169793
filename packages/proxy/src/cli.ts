#!/usr/bin/env node
import { createProgram } from './command';

createProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    process.stderr.write(`grpc-proxy: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
