/** @type {import('jest').Config} */
module.exports = {
  displayName: '@grpc-proxy/http2',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/packages/http2',
};
