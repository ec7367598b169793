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

/** How long a stopping worker lets its peers close their connections before it cuts them. */
const SHUTDOWN_GRACE_MS = 1000;

/**
 * Binds `server` to 127.0.0.1:0 and prints `READY <port>` (exit code 1 naming `name` when it
 * cannot bind). On SIGTERM it shuts the server down (by force after {@link SHUTDOWN_GRACE_MS}:
 * a peer that never reads must not hold it open), runs `onStop`, and the process ends by itself
 * with exit code 0, so that `node --cpu-prof` writes its profile. `onStop` must release whatever
 * else the worker holds open (a client channel).
 */
function serveUntilSigterm(server, name, onStop = () => {}) {
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => {
    if (error) {
      console.error(`${name}: cannot bind: ${error.message}`);
      process.exitCode = 1;
      onStop();
      return;
    }
    console.log(`READY ${port}`);
  });
  process.once('SIGTERM', () => {
    process.exitCode = 0;
    const force = setTimeout(() => server.forceShutdown(), SHUTDOWN_GRACE_MS).unref();
    server.tryShutdown(() => {
      clearTimeout(force);
      onStop();
    });
  });
}

module.exports = {
  UNARY_PATH,
  STREAM_PATH,
  echoServiceDefinition,
  unlimitedMessages,
  SHUTDOWN_GRACE_MS,
  serveUntilSigterm,
};
