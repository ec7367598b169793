import * as http2 from 'node:http2';
import { status } from '@grpc/grpc-js';
import { callRawClientStream, callRawServerStream } from '@grpc-proxy/testing';
import { createBackendClient } from './backend-client';
import type { Backend } from './contracts';
import { useFanOutScene } from './test-support/fan-out-scene';
import { startRawH2Backend, type RawH2Backend } from './test-support/raw-h2-backend';
import { ECHO } from './test-support/test-backend';

describe('fan-out after a transparent retry (grpc-js engine)', () => {
  const h = useFanOutScene();
  let refusing: RawH2Backend | undefined;

  afterEach(async () => {
    await refusing?.close();
    refusing = undefined;
  });

  it('a fan-out route given for a retry gets the request the refused attempt sent, then the half-close', async () => {
    // Refuses each stream once the whole request arrived: the messages were sent, and are held.
    refusing = await startRawH2Backend((stream) => {
      stream.resume();
      stream.on('end', () => stream.close(http2.constants.NGHTTP2_REFUSED_STREAM));
    });
    const refusingClient = createBackendClient(refusing.target);
    try {
      let asks = 0;
      h.director = () =>
        asks++ === 0
          ? { backend: refusingClient, release: (final) => h.releases.push(final) }
          : h.route({ responses: 'merge' });
      const sent = ['m1', 'm2'].map((s) => Buffer.from(s));
      const outcome = await callRawClientStream(h.client, `${ECHO}/ClientStream`, sent);
      expect([outcome.status.code, outcome.responses.map(String)]).toEqual([
        status.OK,
        ['a:m1a:m2b:m1b:m2c:m1c:m2'],
      ]);
      for (const leg of h.legs) {
        expect([leg.calls[0].messages, leg.calls[0].halfClosed]).toEqual([sent, true]);
      }
      const report = await h.reported();
      expect([report.retries, report.messagesFromClient, report.backend]).toEqual([1, 2, 'fan']);
      expect(h.releases.map((final) => final.code)).toEqual([status.UNAVAILABLE, status.OK]);
    } finally {
      refusingClient.close();
    }
  });

  it('a fan-out route given after a backend out of rotation starts as a first attempt', async () => {
    const down: Backend = { name: 'down', client: () => h.legClients[0], isAvailable: () => false };
    let asks = 0;
    h.director = () =>
      asks++ === 0
        ? { backend: down, release: (final) => h.releases.push(final) }
        : h.route({ responses: 'stream' });
    const outcome = await callRawServerStream(h.client, `${ECHO}/ServerStream`, Buffer.from('q'));
    expect([outcome.status.code, outcome.responses.length]).toEqual([status.OK, 9]);
    expect((await h.reported()).retries).toBe(1);
    expect(h.releases.map((final) => [final.code, final.details])).toEqual([
      [status.UNAVAILABLE, 'grpc-proxy: backend down unavailable: out of rotation'],
      [status.OK, 'OK'],
    ]);
  });
});
