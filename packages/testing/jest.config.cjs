/** @type {import('jest').Config} */
module.exports = {
  displayName: '@grpc-proxy/testing',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/packages/testing',
  // src/cli.spec.ts runs the built grpc-proxy-echo bin.
  globalSetup: '<rootDir>/../../jest.build-setup.cjs',
};
