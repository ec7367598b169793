import * as http2 from 'node:http2';
import { Metadata, status } from '@grpc/grpc-js';
import { callRawUnary } from '@grpc-proxy/testing';
import {
  FrameFlag,
  FrameType,
  encodeFrame,
  frameErrorCode,
  grpcRequestHeaders,
  grpcStatusOf,
  probeService,
  requestHeadersFrame,
} from '../src';
import { HELLO } from './support/messages';
import { ENGINES, useHarness } from './support/use-harness';

describe.each(ENGINES)(
  'hop-by-hop and stripped keys never reach the backend (%s engine)',
  (engine) => {
    const h = useHarness({ engine });

    it('drops a host header sent by the client; forwards ordinary metadata', async () => {
      const mirror = await h.mirror();
      const proxy = await h.proxy({ backend: mirror.address });
      const outcome = await h.h2Session(proxy.address).request(
        {
          ...grpcRequestHeaders('/any.Service/Method'),
          host: 'evil.example',
          'x-kept': 'yes',
        },
        (stream) => stream.end(HELLO),
      );
      expect([grpcStatusOf(outcome), outcome.rstCode, outcome.error]).toEqual([
        status.OK,
        0,
        undefined,
      ]);
      const seen = mirror.requests[0];
      expect(seen['x-kept']).toBe('yes');
      expect(seen.host).toBeUndefined();
      // `te: trailers` does arrive, but it is the proxy's own (grpc-js sends it on every call).
      expect(seen.te).toBe('trailers');
    });

    it.each([
      ['connection', 'keep-alive'],
      ['keep-alive', 'timeout=5'],
      ['proxy-connection', 'keep-alive'],
      ['transfer-encoding', 'chunked'],
      ['upgrade', 'h2c'],
      ['te', 'gzip'],
    ])(
      'a request carrying "%s" is reset with PROTOCOL_ERROR before any backend sees it',
      async (name, value) => {
        const mirror = await h.mirror();
        const proxy = await h.proxy({ backend: mirror.address });
        const connection = await h.rawFrames(proxy.address);
        connection.send(
          requestHeadersFrame(
            1,
            '/any.Service/Method',
            [[name, value]],
            FrameFlag.END_HEADERS | FrameFlag.END_STREAM,
          ),
        );
        const reset = await connection.waitForFrame(
          (frame) => frame.type === FrameType.RST_STREAM || frame.type === FrameType.GOAWAY,
          10000,
        );
        expect(reset).not.toBe('closed');
        if (reset === 'closed') return;
        expect([reset.type, frameErrorCode(reset)]).toEqual([
          FrameType.RST_STREAM,
          http2.constants.NGHTTP2_PROTOCOL_ERROR,
        ]);
        expect(mirror.requests).toEqual([]);
      },
    );

    it('drops an http2-settings header (which node:http2 clients cannot even send)', async () => {
      const mirror = await h.mirror();
      const proxy = await h.proxy({ backend: mirror.address });
      const connection = await h.rawFrames(proxy.address);
      connection.send(
        requestHeadersFrame(1, '/any.Service/Method', [
          ['te', 'trailers'],
          ['http2-settings', 'AAMAAABkAAQAAP__'],
          ['x-kept', 'yes'],
        ]),
        encodeFrame(FrameType.DATA, FrameFlag.END_STREAM, 1, HELLO),
      );
      // The call ends with trailers (HEADERS with END_STREAM) or a reset: either way, look at
      // what the backend got.
      const end = await connection.waitForFrame(
        (frame) =>
          frame.streamId === 1 &&
          (frame.type === FrameType.RST_STREAM ||
            (frame.type === FrameType.HEADERS && (frame.flags & FrameFlag.END_STREAM) !== 0)),
        10000,
      );
      expect(end).not.toBe('closed');
      if (end === 'closed') return;
      // nghttp2 lets the header through; the proxy's policy drops it.
      expect(end.type).toBe(FrameType.HEADERS);
      expect(mirror.requests).toHaveLength(1);
      expect(mirror.requests[0]['x-kept']).toBe('yes');
      expect(mirror.requests[0]['http2-settings']).toBeUndefined();
    });

    it('routes on a strip-configured key, and the chosen backend never sees it', async () => {
      const blue = await h.mirror();
      const green = await h.mirror();
      const proxy = await h.proxy({
        config: {
          backends: [
            { name: 'blue', targets: [blue.address] },
            { name: 'green', targets: [green.address] },
          ],
          routes: [{ metadata: { 'x-route-to': 'blue' }, backend: 'blue' }],
          defaultBackend: 'green',
          metadata: { strip: ['x-route-to', 'x-tenant-secret'] },
        },
      });
      const metadata = new Metadata();
      metadata.set('x-route-to', 'blue');
      metadata.set('x-tenant-secret', 's3cret');
      metadata.set('x-kept', 'yes');
      const outcome = await callRawUnary(
        h.probeClient(proxy.address),
        probeService.Unary.path,
        Buffer.from('hi'),
        { metadata },
      );
      expect(outcome.status.code).toBe(status.OK);
      expect([blue.requests.length, green.requests.length]).toEqual([1, 0]);
      const seen = blue.requests[0];
      expect(seen['x-kept']).toBe('yes');
      expect(seen['x-route-to']).toBeUndefined();
      expect(seen['x-tenant-secret']).toBeUndefined();
    });
  },
);
