/** @type {import('jest').Config} */
module.exports = {
  displayName: '@grpc-proxy/codec',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/packages/codec',
  collectCoverage: true,
  collectCoverageFrom: [
    'src/**/*.ts',
    '!src/**/*.spec.ts',
    '!src/test-support/**',
    '!src/index.ts',
  ],
  coverageThreshold: { global: { lines: 95 } },
};
