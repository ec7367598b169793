'use strict';
/**
 * The reference "naive grpc-js proxy": a grpc-js server whose handlers forward each call to the
 * backend through a grpc-js client with default options, piping messages both ways. It is what
 * most people would write first, so it is the row the real proxy has to beat.
 *
 * Usage: node naive-proxy.js <backend host:port>. Prints `READY <port>` (bound to 127.0.0.1:0).
 * SIGTERM ends it with exit code 0, so `node --cpu-prof` writes its profile.
 */
const grpc = require('@grpc/grpc-js');
const {
  echoServiceDefinition,
  serveUntilSigterm,
  unlimitedMessages,
} = require('../src/bench-service');

function main(backendAddress) {
  const EchoClient = grpc.makeGenericClientConstructor(echoServiceDefinition, 'Echo');
  const backend = new EchoClient(backendAddress, grpc.credentials.createInsecure(), {
    ...unlimitedMessages,
  });
  const server = new grpc.Server({ ...unlimitedMessages });

  server.addService(echoServiceDefinition, {
    Unary(call, callback) {
      const upstream = backend.Unary(call.request, call.metadata, (error, response) =>
        error ? callback(error) : callback(null, response),
      );
      call.on('cancelled', () => upstream.cancel());
    },
    Stream(call) {
      const upstream = backend.Stream(call.metadata);
      call.on('data', (message) => upstream.write(message));
      call.on('end', () => upstream.end());
      call.on('cancelled', () => upstream.cancel());
      call.on('error', () => upstream.cancel());
      upstream.on('data', (message) => call.write(message));
      upstream.on('end', () => call.end());
      upstream.on('error', (error) => call.emit('error', error));
    },
  });

  serveUntilSigterm(server, 'naive proxy', () => backend.close());
}

const backendAddress = process.argv[2];
if (backendAddress) {
  main(backendAddress);
} else {
  console.error('usage: naive-proxy.js <backend host:port>');
  process.exitCode = 2;
}
