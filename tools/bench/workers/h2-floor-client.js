'use strict';
/**
 * Floor, client side: a bare node:http2 client making gRPC-shaped unary calls (one framed message
 * out, the echo back, grpc-status checked). Its own CPU per call is the client half of the floor.
 *
 * Usage: node h2-floor-client.js '<json options>' with { target, payload, concurrency, warmupMs,
 * durationMs }. Prints `RESULT <json>` (see closed-loop.js).
 */
const { once } = require('node:events');
const http2 = require('node:http2');
const { runClosedLoop } = require('../src/closed-loop');
const { encodeMessage } = require('@grpc-proxy/codec');
const { patternPayload } = require('@grpc-proxy/testing');
const { UNARY_PATH } = require('../src/bench-service');

/** Set on SIGTERM: the run was stopped on purpose, exit code 0. */
let terminated = false;

async function main() {
  const options = JSON.parse(process.argv[2]);
  const session = http2.connect(`http://${options.target}`);
  // A session error (or SIGTERM) ends the run: no loop starts another call on a dead session.
  const stop = new AbortController();
  session.on('error', (error) => stop.abort(new Error(`session error: ${error.message}`)));
  session.once('close', () => stop.abort(new Error('session closed by the server')));
  process.once('SIGTERM', () => {
    terminated = true;
    stop.abort(new Error('stopped by SIGTERM'));
    session.destroy();
  });
  try {
    await once(session, 'connect', { signal: stop.signal });
    const body = encodeMessage(patternPayload(options.payload));
    const headers = {
      ':method': 'POST',
      ':path': UNARY_PATH,
      'content-type': 'application/grpc',
      te: 'trailers',
    };
    const callOnce = () => unaryCall(session, headers, body);
    const result = await runClosedLoop({ ...options, callOnce, signal: stop.signal });
    stop.signal.throwIfAborted();
    console.log(`RESULT ${JSON.stringify(result)}`);
    session.close();
  } catch (error) {
    // The session's own error says more than the abort it caused.
    throw stop.signal.aborted ? stop.signal.reason : error;
  } finally {
    if (stop.signal.aborted) session.destroy();
  }
}

function unaryCall(session, headers, body) {
  return new Promise((resolve, reject) => {
    const request = session.request(headers);
    let status;
    let received = 0;
    request.on('response', (h) => (status = h['grpc-status'] ?? status));
    request.on('trailers', (t) => (status = t['grpc-status']));
    request.on('data', (chunk) => (received += chunk.length));
    request.on('error', reject);
    request.on('close', () =>
      status === '0' && received === body.length
        ? resolve()
        : reject(new Error(`grpc-status ${status}, ${received} bytes`)),
    );
    request.end(body);
  });
}

main().catch((error) => {
  if (terminated) return;
  console.error(`floor client: ${error.stack}`);
  process.exitCode = 1;
});
