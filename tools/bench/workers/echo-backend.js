'use strict';
/**
 * The backend of every run: a grpc-js server echoing raw bytes on /bench.Echo/Unary and
 * /bench.Echo/Stream. Prints `READY <port>` once bound to 127.0.0.1:0.
 */
const grpc = require('@grpc/grpc-js');
const {
  echoServiceDefinition,
  serveUntilSigterm,
  unlimitedMessages,
} = require('../src/bench-service');

// Channelz off: the backend is shared by every row, keep it as light as grpc-js allows.
const server = new grpc.Server({ ...unlimitedMessages, 'grpc.enable_channelz': 0 });

server.addService(echoServiceDefinition, {
  Unary(call, callback) {
    callback(null, call.request);
  },
  Stream(call) {
    call.on('data', (message) => {
      // Respect backpressure: stop reading while the response side is full.
      if (!call.write(message)) {
        call.pause();
        call.once('drain', () => call.resume());
      }
    });
    call.on('end', () => call.end());
    call.on('error', () => {});
  },
});

serveUntilSigterm(server, 'echo backend');
