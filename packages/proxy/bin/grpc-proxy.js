#!/usr/bin/env node
// Committed so npm links the bin before dist/ is built; only a checkout has tsconfig.lib.json.
const has = (file) => require('node:fs').existsSync(`${__dirname}/../${file}`);
if (has('dist/cli.js')) require('../dist/cli.js');
else {
  const fix = has('tsconfig.lib.json') ? 'run `npm run build` at the repo root' : 'reinstall it';
  console.error(`grpc-proxy: dist/cli.js of @grpc-proxy/proxy is missing; ${fix}`);
  process.exitCode = 1;
}
