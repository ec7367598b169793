/** @type {import('jest').Config} */
module.exports = {
  displayName: '@grpc-proxy/proxy',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/packages/proxy',
  // The command tests spawn dist/cli.js; build it (incrementally) first.
  globalSetup: '<rootDir>/jest.global-setup.cjs',
};
