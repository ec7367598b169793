// The one build step of every jest project that runs a built program (a package's bin, e2e
// fixtures): `tsc --build` of the project's tsconfig.lib.json, which follows its references and
// is incremental (a no-op after `nx build`, which `nx test` depends on). A failed build fails
// the run: a test never runs against a stale dist/.
//
//   globalSetup: '<rootDir>/../../jest.build-setup.cjs'
const { execFileSync } = require('node:child_process');
const path = require('node:path');

module.exports = function buildBeforeTests(_globalConfig, projectConfig) {
  const tsconfig = path.join(projectConfig.rootDir, 'tsconfig.lib.json');
  const tsc = require.resolve('typescript/bin/tsc');
  try {
    execFileSync(process.execPath, [tsc, '--build', tsconfig], { stdio: 'pipe', encoding: 'utf8' });
  } catch (error) {
    throw new Error(`tsc --build ${tsconfig} failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
  }
};
