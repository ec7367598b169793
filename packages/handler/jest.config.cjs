/** @type {import('jest').Config} */
module.exports = {
  displayName: '@grpc-proxy/handler',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/packages/handler',
};
