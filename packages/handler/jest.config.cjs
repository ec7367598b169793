// GRPC_JS_DIR (set by scripts/test-grpc-js-matrix.sh) runs the suite against another copy of
// @grpc/grpc-js, e.g. the lowest version of the peer range; every import of it is redirected.
const grpcJsDir = process.env.GRPC_JS_DIR;

/** @type {import('jest').Config} */
module.exports = {
  displayName: '@grpc-proxy/handler',
  preset: '../../jest.preset.js',
  coverageDirectory: '../../coverage/packages/handler',
  ...(grpcJsDir
    ? {
        moduleNameMapper: {
          '^@grpc/grpc-js$': grpcJsDir,
          '^@grpc/grpc-js/(.*)$': `${grpcJsDir}/$1`,
        },
      }
    : {}),
};
