#!/usr/bin/env node
// Committed launcher for the compiled command, so npm links the bin on a fresh install even
// before dist/ is built (npm skips bins whose target does not exist yet).
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const packageDir = join(__dirname, '..');
if (existsSync(join(packageDir, 'dist', 'cli.js'))) {
  require('../dist/cli.js');
} else {
  // tsconfig.lib.json is not published: only a checkout of the repository has it.
  const hint = existsSync(join(packageDir, 'tsconfig.lib.json'))
    ? 'not built yet; run `npm run build` (or `npm install`) at the repository root'
    : 'dist/cli.js is missing from @grpc-proxy/proxy, so the installed package is broken; reinstall it';
  process.stderr.write(`grpc-proxy: ${hint}\n`);
  process.exitCode = 1;
}
