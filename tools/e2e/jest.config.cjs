/** @type {import('jest').Config} */
module.exports = {
  displayName: '@grpc-proxy/e2e',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/tools/e2e',
  // The proxy, backends and stats agent run as separate node processes from dist/; compile them
  // (incrementally, a no-op after `nx build`) so `npx jest` alone is enough.
  globalSetup: '<rootDir>/test/global-setup.cjs',
  // Whole-suite cases (256 MiB stream, 100 000 calls) run for tens of seconds on 2 cores.
  testTimeout: 120000,
};
