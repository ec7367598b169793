// The command is tested as a real child process (`node dist/cli.js`), so the package and the
// packages it imports must be built. `tsc --build` follows the project references and is
// incremental: a no-op when everything is up to date (as after `nx run-many -t build`).
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

module.exports = function buildBeforeTests() {
  const tsc = require.resolve('typescript/bin/tsc');
  try {
    execFileSync(process.execPath, [tsc, '--build', 'tsconfig.lib.json'], {
      cwd: __dirname,
      stdio: 'pipe',
      encoding: 'utf8',
    });
  } catch (error) {
    // In a shared working tree a sibling package may be mid-edit; an existing build is then
    // used (and said so). CI builds first (nx: test depends on build), so it never gets here.
    if (existsSync(path.join(__dirname, 'dist', 'cli.js'))) {
      process.stderr.write(
        `\nwarning: rebuilding failed, testing the existing dist/:\n${error.stdout}\n`,
      );
      return;
    }
    throw new Error(
      `building ${path.join(__dirname, 'dist')} for the command tests failed:\n${error.stdout}${error.stderr}`,
    );
  }
};
