/**
 * Backpressure end to end through the http2 engine: a reader that stops reading stops the writer
 * on the other side after a bounded number of messages (HTTP/2 windows and stream buffers, no
 * queue of the proxy's own), and everything arrives once it reads again.
 */
import { describeBackpressure } from '@grpc-proxy/testing';
import { startHttp2Proxy } from './test-support/proxy';

describeBackpressure('backpressure end to end', {
  startProxy: (target) => startHttp2Proxy(() => ({ backend: { target } })),
  /*
   * Measured through the proxy with 1 KiB messages: 128 (Node 20) to 288 (Node 22) accepted
   * downwards, 1024 upwards (what grpc-js's client and server buffers take without a proxy).
   */
  downBound: 800,
  upBound: 2000,
});
