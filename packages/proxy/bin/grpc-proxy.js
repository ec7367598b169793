#!/usr/bin/env node
// Committed launcher for the compiled command, so npm links the bin on a fresh install even
// before dist/ is built (npm skips bins whose target does not exist yet).
try {
  require.resolve('../dist/cli.js');
} catch {
  process.stderr.write(
    'grpc-proxy: not built yet; run `npm run build` (or `npm install`) at the repository root\n',
  );
  process.exit(1);
}
require('../dist/cli.js');
