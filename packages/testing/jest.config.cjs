/** @type {import('jest').Config} */
module.exports = {
  displayName: '@grpc-proxy/testing',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/packages/testing',
};
