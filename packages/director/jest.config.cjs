/** @type {import('jest').Config} */
module.exports = {
  displayName: '@grpc-proxy/director',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/packages/director',
};
