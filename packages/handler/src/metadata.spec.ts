import * as http2 from 'node:http2';
import { Metadata, status } from '@grpc/grpc-js';
import { callRawUnary } from '@grpc-proxy/testing';
import { encodeMessage } from '@grpc-proxy/codec';
import type { ProxyCall } from './contracts';
import { entries, eventually, rawClient } from './test-support/grpc-fixtures';
import { useHarness } from './test-support/harness';
import { ECHO } from './test-support/test-backend';

function clientMetadata(): Metadata {
  const md = new Metadata();
  md.set('x-one', 'value one');
  md.add('x-multi', 'a');
  md.add('x-multi', 'b');
  md.set('x-blob-bin', Buffer.from([0, 1, 254, 255]));
  return md;
}

describe('metadata through the proxy (default policy)', () => {
  const h = useHarness();

  it('delivers client metadata to the backend exactly as a direct call does, 50 times in a row', async () => {
    const direct = rawClient(h.backend.target);
    try {
      await callRawUnary(direct, `${ECHO}/Unary`, Buffer.from('d'), { metadata: clientMetadata() });
      const expected = entries(h.backend.seen[0].metadata);
      // grpc-js joins repeated text values into one header, 'a, b'.
      expect(expected).toMatchObject({ 'x-one': ['value one'], 'x-multi': ['a, b'] });
      for (let i = 0; i < 50; i++) {
        const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from([i]), {
          metadata: clientMetadata(),
        });
        expect(outcome.status.code).toBe(status.OK);
        expect(entries(h.backend.seen[i + 1].metadata)).toEqual(expected);
      }
    } finally {
      direct.close();
    }
  });

  it('lets the director read and change the metadata; changes are forwarded', async () => {
    let seenByDirector: Record<string, unknown> = {};
    h.director = (call: ProxyCall) => {
      seenByDirector = entries(call.metadata);
      call.metadata.set('x-added-by-director', 'yes');
      call.metadata.set('connection', 'close'); // hop-by-hop: must not reach (nor break) the backend leg
      return h.route();
    };
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('x'), {
      metadata: clientMetadata(),
    });
    expect(outcome.status.code).toBe(status.OK);
    expect(seenByDirector).toMatchObject({ 'x-one': ['value one'] });
    const atBackend = entries(h.backend.seen[0].metadata);
    expect(atBackend['x-added-by-director']).toEqual(['yes']);
    expect(atBackend.connection).toBeUndefined();
  });

  it('sends the route metadata instead when the director gives one', async () => {
    h.director = () => {
      const md = new Metadata();
      md.set('x-only-this', '1');
      md.set('keep-alive', 'timeout=5');
      return h.route({ metadata: md });
    };
    await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('x'), {
      metadata: clientMetadata(),
    });
    const atBackend = entries(h.backend.seen[0].metadata);
    delete atBackend['user-agent'];
    expect(atBackend).toEqual({ 'x-only-this': ['1'] });
  });

  it('drops a request header grpc-js would reject instead of failing the call', async () => {
    const session = http2.connect(`http://${h.proxy.target}`);
    try {
      const stream = session.request({
        ':method': 'POST',
        ':path': `${ECHO}/Unary`,
        'content-type': 'application/grpc',
        te: 'trailers',
        'x-bad': 'caf\u00e9', // legal in HTTP/2, not in gRPC metadata
        'x-good': 'fine',
      });
      const chunks: Buffer[] = [];
      let trailers: http2.IncomingHttpHeaders = {};
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('trailers', (t) => (trailers = t));
      stream.end(encodeMessage(Buffer.from('raw')));
      await new Promise((resolve) => stream.on('close', resolve));
      expect(trailers['grpc-status']).toBe('0');
      expect(Buffer.concat(chunks).subarray(5)).toEqual(Buffer.from('echo:raw'));
      const atBackend = entries(h.backend.seen[0].metadata);
      expect(atBackend['x-good']).toEqual(['fine']);
      expect(atBackend['x-bad']).toBeUndefined();
    } finally {
      session.destroy();
    }
  });
});

describe('metadata through the proxy (strip list and forwarding headers)', () => {
  const h = useHarness({
    metadata: { stripKeys: ['x-route'], forwardedFor: true, forwardedHost: true },
  });

  it('strips routing keys after the director and adds x-forwarded-for / x-forwarded-host', async () => {
    let routeKey: unknown;
    h.director = (call) => {
      routeKey = call.metadata.get('x-route');
      return h.route();
    };
    const md = clientMetadata();
    md.set('x-route', 'blue');
    md.set('x-forwarded-for', '10.9.8.7');
    await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('x'), { metadata: md });
    await eventually(() => h.backend.seen.length === 1, 'backend call');
    expect(routeKey).toEqual(['blue']);
    const atBackend = entries(h.backend.seen[0].metadata);
    expect(atBackend['x-route']).toBeUndefined();
    expect(atBackend['x-forwarded-for']).toEqual(['10.9.8.7, 127.0.0.1']);
    expect(atBackend['x-forwarded-host']).toEqual([h.proxy.target]);
    expect(atBackend['x-one']).toEqual(['value one']);
  });
});
