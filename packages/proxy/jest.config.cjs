/** @type {import('jest').Config} */
module.exports = {
  displayName: '@grpc-proxy/proxy',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/packages/proxy',
  // The examples (the demo, the README's in-process example) are run by their own specs.
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/examples/**/*.spec.ts'],
  // src/cli-bin.spec.ts runs the built grpc-proxy bin.
  globalSetup: '<rootDir>/../../jest.build-setup.cjs',
};
