/**
 * Compression in a fan-out on the http2 engine: the client's compressed messages reach every
 * backend as they were sent, each backend is asked to answer uncompressed
 * (`grpc-accept-encoding: identity`: messages of several backends share one stream and one
 * merge), and a backend that compresses anyway is inflated; one whose encoding the proxy does not
 * know fails its leg.
 */
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { deflateSync, gunzipSync, gzipSync } from 'node:zlib';
import { Client, credentials, status } from '@grpc/grpc-js';
import { callRawServerStream, callRawUnary } from '@grpc-proxy/testing';
import type { FanOutMember } from '@grpc-proxy/handler';
import { startMirrorProxy, type MirrorProxy } from './test-support/mirror-proxy';
import { startRawBackend, type RawBackend } from './test-support/raw-h2';

const METHOD = '/acme.v1.Svc/Do';
const GZIP = 2; // grpc-js's compression algorithm number for gzip

interface Seen {
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A compressed (flag 1) or plain message. */
function frame(payload: Buffer, compressed: boolean): Buffer {
  const prefix = Buffer.alloc(5);
  prefix[0] = compressed ? 1 : 0;
  prefix.writeUInt32BE(payload.length, 1);
  return Buffer.concat([prefix, payload]);
}

/**
 * A backend that reads the (gzip) request and answers `answer(request)`, compressed with
 * `encoding` whatever the request's `grpc-accept-encoding` says (`identity`: plain).
 */
function compressingBackend(
  seen: Seen[],
  encoding: string,
  answer: (request: string) => string,
): (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void {
  return (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ headers, body });
      const reply = Buffer.from(answer(gunzipSync(body.subarray(5)).toString()));
      const compress = { gzip: gzipSync, deflate: deflateSync, identity: (b: Buffer) => b }[
        encoding
      ];
      const payload = compress ? compress(reply) : reply;
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', 'grpc-encoding': encoding },
        { waitForTrailers: true },
      );
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(frame(payload, encoding !== 'identity'));
    });
  };
}

describe('fan-out compression', () => {
  const backends: RawBackend[] = [];
  let proxy: MirrorProxy;
  let client: Client;
  const seen: Seen[] = [];

  async function start(
    answers: [string, (request: string) => string][],
    responses: 'stream' | 'merge',
  ): Promise<void> {
    const members: FanOutMember[] = [];
    for (const [encoding, answer] of answers) {
      const backend = await startRawBackend(compressingBackend(seen, encoding, answer));
      backends.push(backend);
      members.push({ name: encoding, target: backend.target });
    }
    proxy = await startMirrorProxy(() => ({
      backend: { name: 'fan', fanOut: { backends: members, responses } },
    }));
    client = new Client(proxy.address, credentials.createInsecure(), {
      'grpc.default_compression_algorithm': GZIP,
    });
  }

  afterEach(async () => {
    seen.length = 0;
    client?.close();
    await proxy?.close();
    for (const backend of backends.splice(0)) await backend.close();
  });

  it('merge: every backend gets the gzip request as sent, answers inflated and merged', async () => {
    await start(
      [
        ['gzip', (r) => r.toUpperCase()],
        ['identity', (r) => `<${r}>`],
        ['deflate', (r) => `[${r}]`],
      ],
      'merge',
    );
    const payload = Buffer.from('compress me '.repeat(20));
    const outcome = await callRawUnary(client, METHOD, payload);
    expect(outcome.status.code).toBe(status.OK);
    const text = payload.toString();
    expect(outcome.responses.map(String)).toEqual([`${text.toUpperCase()}<${text}>[${text}]`]);
    expect(seen).toHaveLength(3);
    for (const { headers, body } of seen) {
      expect(headers['grpc-encoding']).toBe('gzip');
      expect(headers['grpc-accept-encoding']).toBe('identity');
      expect(body[0]).toBe(1); // still compressed, as the client sent it
      expect(gunzipSync(body.subarray(5))).toEqual(payload);
    }
  });

  it("stream: a backend's compressed messages reach the client uncompressed", async () => {
    await start([['gzip', (r) => r.toUpperCase()]], 'stream');
    const outcome = await callRawServerStream(client, METHOD, Buffer.from('hello'));
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses.map(String)).toEqual(['HELLO']);
  });

  it('a backend answering in an encoding the proxy does not know fails its leg', async () => {
    await start(
      [
        ['identity', (r) => r],
        ['snappy', (r) => r],
      ],
      'merge',
    );
    const outcome = await callRawUnary(client, METHOD, Buffer.from('x'));
    expect(outcome.status.code).toBe(status.INTERNAL);
    expect(outcome.status.details).toBe(
      'grpc-proxy: backend snappy failed: cannot decompress its snappy message',
    );
    const [report] = await proxy.callEnds(1);
    // (The other backend may have answered first, or been cancelled.)
    expect(report.fanOut?.[1]).toEqual({
      backend: 'snappy',
      code: status.INTERNAL,
      details: 'grpc-proxy: backend snappy failed: cannot decompress its snappy message',
      proxyError: true,
      messages: 0,
    });
  });
});
