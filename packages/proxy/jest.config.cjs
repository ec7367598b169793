/** @type {import('jest').Config} */
module.exports = {
  displayName: '@grpc-proxy/proxy',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/packages/proxy',
};
