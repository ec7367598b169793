/** @type {import('jest').Config} */
module.exports = {
  displayName: '@grpc-proxy/e2e',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/tools/e2e',
  // The proxy, the echo server and this suite's fixtures run as node processes from dist/:
  // built (tsconfig.lib.json and its references) before any suite starts.
  globalSetup: '<rootDir>/../../jest.build-setup.cjs',
  // Whole-suite cases (256 MiB stream, 100 000 calls) run for tens of seconds on 2 cores.
  testTimeout: 120000,
};
