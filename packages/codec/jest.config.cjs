/** @type {import('jest').Config} */
module.exports = {
  displayName: '@grpc-proxy/codec',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/packages/codec',
};
