const { execFileSync } = require('node:child_process');
const path = require('node:path');

/** Compiles this package's fixtures (child-process programs) before any suite spawns them. */
module.exports = async function globalSetup() {
  const packageRoot = path.resolve(__dirname, '..');
  const tsc = require.resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '--build', 'tsconfig.lib.json'], {
    cwd: packageRoot,
    stdio: 'inherit',
  });
};
