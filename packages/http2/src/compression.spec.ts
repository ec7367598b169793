/**
 * Compressed messages travel compressed: the engine never inflates them, it passes
 * `grpc-encoding`/`grpc-accept-encoding` and the compressed flag through untouched.
 */
import { gzipSync, gunzipSync } from 'node:zlib';
import { Client, credentials, status } from '@grpc/grpc-js';
import { callRawUnary } from '@grpc-proxy/testing';
import { startHttp2Proxy, type RunningProxy } from './test-support/proxy';
import { startRawBackend, type RawBackend } from './test-support/raw-h2';

const METHOD = '/acme.v1.Svc/Do';
const GZIP = 2; // grpc-js's compression algorithm number for gzip

interface Seen {
  encoding: string | string[] | undefined;
  acceptEncoding: string | string[] | undefined;
  body: Buffer;
}

describe('compression passthrough', () => {
  let backend: RawBackend;
  let proxy: RunningProxy;
  let client: Client;
  const seen: Seen[] = [];

  beforeEach(async () => {
    seen.length = 0;
    // Checks what it got as bytes, and answers the request's payload in upper case, gzipped.
    backend = await startRawBackend((stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const body = Buffer.concat(chunks);
        seen.push({
          encoding: headers['grpc-encoding'],
          acceptEncoding: headers['grpc-accept-encoding'],
          body,
        });
        const request = gunzipSync(body.subarray(5)).toString();
        const answer = gzipSync(Buffer.from(request.toUpperCase()));
        const prefix = Buffer.alloc(5);
        prefix[0] = 1;
        prefix.writeUInt32BE(answer.length, 1);
        stream.respond(
          { ':status': 200, 'content-type': 'application/grpc', 'grpc-encoding': 'gzip' },
          { waitForTrailers: true },
        );
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(Buffer.concat([prefix, answer]));
      });
    });
    proxy = await startHttp2Proxy(() => ({ backend: { target: backend.target } }));
    client = new Client(proxy.address, credentials.createInsecure(), {
      'grpc.default_compression_algorithm': GZIP,
    });
  });

  afterEach(async () => {
    client.close();
    await proxy.close();
    await backend.close();
  });

  it('forwards a gzip client message compressed, and a gzip answer compressed', async () => {
    const payload = Buffer.from('compress me '.repeat(100));
    const outcome = await callRawUnary(client, METHOD, payload);
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses).toEqual([Buffer.from(payload.toString().toUpperCase())]);
    expect(seen).toHaveLength(1);
    const [{ encoding, acceptEncoding, body }] = seen;
    expect(encoding).toBe('gzip');
    expect(
      String(acceptEncoding)
        .split(',')
        .map((e) => e.trim()),
    ).toContain('gzip');
    expect(body[0]).toBe(1); // the compressed flag, as the client set it
    expect(body.readUInt32BE(1)).toBe(body.length - 5);
    expect(body.length).toBeLessThan(payload.length); // still compressed
    expect(gunzipSync(body.subarray(5))).toEqual(payload);
  });
});
