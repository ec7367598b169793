'use strict';
/**
 * Floor, server side: a bare node:http2 server answering gRPC-shaped unary calls (one
 * length-prefixed message in, the same message back, `grpc-status: 0` in trailers). It does
 * only what any gRPC server on node:http2 must do, so its CPU per call is a lower bound.
 * Prints `READY <port>` once bound to 127.0.0.1:0; on SIGTERM closes its sessions and ends with
 * exit code 0.
 */
const http2 = require('node:http2');
const { MessageDecoder } = require('@grpc-proxy/codec');

// The grace of bench-service.js's SHUTDOWN_GRACE_MS, not imported: the floor must not load grpc-js.
const SHUTDOWN_GRACE_MS = 1000;

/**
 * Whether `body` is exactly one uncompressed gRPC message, decoded the way a gRPC server must
 * (codec's decoder: under a microsecond per call, about 1% of the floor).
 */
function isOneMessage(body) {
  try {
    const decoder = new MessageDecoder();
    const messages = decoder.push(body);
    decoder.end();
    return messages.length === 1 && !messages[0].compressed;
  } catch {
    return false;
  }
}

const server = http2.createServer({ settings: { maxConcurrentStreams: 10000 } });

server.on('stream', (stream) => {
  const chunks = [];
  stream.on('data', (chunk) => chunks.push(chunk));
  stream.on('error', () => {});
  stream.on('end', () => {
    // A stream its client (or a proxy) reset after the request ended: respond() would throw.
    if (stream.destroyed || stream.closed) return;
    const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    const ok = isOneMessage(body);
    stream.respond(
      { ':status': 200, 'content-type': 'application/grpc' },
      { waitForTrailers: true },
    );
    stream.once('wantTrailers', () =>
      stream.sendTrailers(
        ok ? { 'grpc-status': '0' } : { 'grpc-status': '13', 'grpc-message': 'bad frame' },
      ),
    );
    stream.end(ok ? body : undefined);
  });
});

const sessions = new Set();
server.on('session', (session) => {
  sessions.add(session);
  session.once('close', () => sessions.delete(session));
});

server.listen(0, '127.0.0.1', () => console.log(`READY ${server.address().port}`));

process.once('SIGTERM', () => {
  process.exitCode = 0;
  server.close();
  for (const session of sessions) session.close();
  // A client that never reads would keep its session open: cut what is left after the grace.
  setTimeout(() => {
    for (const session of sessions) session.destroy();
  }, SHUTDOWN_GRACE_MS).unref();
});
