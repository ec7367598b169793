'use strict';
/**
 * The raw echo service every backend in the bench serves, as the workers share it: method paths
 * and grpc-js definitions with raw-bytes (identity) serializers from `@grpc-proxy/codec`, so
 * grpc-js never touches protobuf, and how a worker serves it.
 */
const grpc = require('@grpc/grpc-js');
const { rawMethod } = require('@grpc-proxy/codec');

/** Method paths of the raw echo service. */
const UNARY_PATH = '/bench.Echo/Unary';
const STREAM_PATH = '/bench.Echo/Stream';

/** grpc-js service definition of the raw echo service (unary + bidi), for servers and proxies. */
const echoServiceDefinition = {
  Unary: rawMethod(UNARY_PATH),
  Stream: rawMethod(STREAM_PATH, { requestStream: true, responseStream: true }),
};

/** Channel/server options that lift grpc-js's 4 MiB receive limit (64 KiB messages are fine). */
const unlimitedMessages = {
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': -1,
};

/**
 * Binds `server` to 127.0.0.1:0 and prints `READY <port>` (exits 1 naming `name` when it cannot
 * bind). On SIGTERM it shuts the server down, runs `onStop` and exits 0, so that
 * `node --cpu-prof` writes its profile.
 */
function serveUntilSigterm(server, name, onStop = () => {}) {
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => {
    if (error) {
      console.error(`${name}: cannot bind: ${error.message}`);
      process.exit(1);
    }
    console.log(`READY ${port}`);
  });
  process.on('SIGTERM', () => {
    server.forceShutdown();
    onStop();
    process.exit(0);
  });
}

module.exports = {
  UNARY_PATH,
  STREAM_PATH,
  echoServiceDefinition,
  unlimitedMessages,
  serveUntilSigterm,
};
