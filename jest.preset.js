// Shared jest settings for every package.
// Sibling packages resolve to their TypeScript sources through the `@grpc-proxy/source` export
// condition, so a test never needs a prior build.
module.exports = {
  testEnvironment: 'node',
  testEnvironmentOptions: {
    customExportConditions: ['@grpc-proxy/source', 'node', 'require', 'default'],
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json', isolatedModules: true }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  coverageReporters: ['text-summary', 'lcov'],
  testTimeout: 30000,
};
