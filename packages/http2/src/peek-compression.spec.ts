/**
 * Peek of a compressed first message on the http2 engine: the director gets it inflated, the
 * backend the bytes the client sent; an encoding the engine cannot inflate is UNIMPLEMENTED.
 */
import { gzipSync, gunzipSync } from 'node:zlib';
import { Client, credentials, status } from '@grpc/grpc-js';
import { encodeMessage } from '@grpc-proxy/codec';
import type { ProxyStatusError } from '@grpc-proxy/handler';
import { callRawUnary } from '@grpc-proxy/testing';
import { startHttp2Proxy } from './test-support/proxy';
import {
  answerGrpc,
  rawRequest,
  rawSession,
  recordBodies,
  startRawBackend,
} from './test-support/raw-h2';

describe('peek of a compressed first message', () => {
  let closers: Array<() => unknown> = [];

  afterEach(async () => {
    for (const close of closers) await close();
    closers = [];
  });

  it('gives the director the inflated payload; the backend gets it compressed, unchanged', async () => {
    const bodies: Buffer[] = [];
    const backend = await startRawBackend(recordBodies(bodies, Buffer.from('ok')));
    const seen: Array<Buffer | null> = [];
    const proxy = await startHttp2Proxy(async (call) => {
      seen.push(await call.firstMessage());
      return { backend: { name: 'raw', target: backend.target } };
    });
    const client = new Client(proxy.address, credentials.createInsecure(), {
      'grpc.default_compression_algorithm': 2, // gzip
    });
    closers.push(
      () => client.close(),
      () => proxy.close(),
      () => backend.close(),
    );
    const payload = Buffer.from('route me by my tenant '.repeat(50));
    const outcome = await callRawUnary(client, '/acme.v1.Svc/Do', payload);
    expect([outcome.status.code, outcome.responses]).toEqual([status.OK, [Buffer.from('ok')]]);
    expect(seen).toEqual([payload]);
    expect(bodies).toHaveLength(1);
    const [body] = bodies;
    expect([body[0], body.readUInt32BE(1), body.length]).toEqual([1, body.length - 5, body.length]);
    expect(body.length).toBeLessThan(payload.length); // still compressed
    expect(gunzipSync(body.subarray(5))).toEqual(payload);
  });

  it('rejects an encoding it cannot inflate with UNIMPLEMENTED; the director rethrowing it gives the client that status', async () => {
    const backend = await startRawBackend((stream) => answerGrpc(stream, Buffer.from('never')));
    const errors: unknown[] = [];
    const proxy = await startHttp2Proxy(async (call) => {
      try {
        await call.firstMessage();
      } catch (error) {
        errors.push(error);
        throw error;
      }
      return { backend: { name: 'raw', target: backend.target } };
    });
    const session = rawSession(proxy.address);
    closers.push(
      () => session.destroy(),
      () => proxy.close(),
      () => backend.close(),
    );
    const message = encodeMessage(gzipSync(Buffer.from('x')), { compressed: true });
    const answer = await rawRequest(
      session,
      {
        ':method': 'POST',
        ':path': '/acme.v1.Svc/Do',
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-encoding': 'br',
      },
      message,
    );
    const details = 'grpc-proxy: received message compressed with unsupported encoding "br"';
    expect([
      answer.headers['grpc-status'],
      decodeURIComponent(String(answer.headers['grpc-message'])),
    ]).toEqual([String(status.UNIMPLEMENTED), details]);
    expect(errors).toHaveLength(1);
    const [error] = errors as ProxyStatusError[];
    expect([error.code, error.details]).toEqual([status.UNIMPLEMENTED, details]);
    expect(backend.streams).toHaveLength(0);
  });
});
