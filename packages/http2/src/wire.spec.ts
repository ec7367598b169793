/**
 * What the engine does with HTTP/2 that is not a well-behaved gRPC exchange: non-gRPC requests,
 * backends that answer plain HTTP, reset their streams or truncate a message.
 */
import { constants, type ClientHttp2Session } from 'node:http2';
import { Client, credentials, status } from '@grpc/grpc-js';
import { encodeMessage } from '@grpc-proxy/codec';
import type { StreamDirector } from '@grpc-proxy/handler';
import { callRawUnary, openRawBidi } from '@grpc-proxy/testing';
import { startHttp2Proxy, type RunningProxy } from './test-support/proxy';
import { rawRequest, rawSession, startRawBackend, type RawBackend } from './test-support/raw-h2';

const METHOD = '/acme.v1.Svc/Do';

describe('requests that are not gRPC', () => {
  let proxy: RunningProxy;
  let session: ClientHttp2Session;
  let directed = 0;

  beforeEach(async () => {
    directed = 0;
    proxy = await startHttp2Proxy(() => {
      directed++;
      throw new Error('the director must not see non-gRPC requests');
    });
    session = rawSession(proxy.address);
  });

  afterEach(async () => {
    session.destroy();
    await proxy.close();
  });

  it('answers a GET with 405 and allow: POST', async () => {
    const answer = await rawRequest(session, { ':method': 'GET', ':path': METHOD });
    expect(answer.headers[':status']).toBe(405);
    expect(answer.headers.allow).toBe('POST');
    expect(answer.headers['grpc-status']).toBe(String(status.INTERNAL));
    expect(decodeURI(String(answer.headers['grpc-message']))).toBe(
      'grpc-proxy: gRPC requests are POST',
    );
  });

  it('answers a POST without a gRPC content-type with 415', async () => {
    const answer = await rawRequest(
      session,
      { ':method': 'POST', ':path': METHOD, 'content-type': 'application/json' },
      Buffer.from('{}'),
    );
    expect(answer.headers[':status']).toBe(415);
    expect(decodeURI(String(answer.headers['grpc-message']))).toBe(
      'grpc-proxy: content-type "application/json" is not gRPC',
    );
  });

  it('answers a malformed grpc-timeout with INTERNAL, trailers-only', async () => {
    const answer = await rawRequest(
      session,
      {
        ':method': 'POST',
        ':path': METHOD,
        'content-type': 'application/grpc',
        'grpc-timeout': '123456789S',
      },
      encodeMessage(Buffer.from('x')),
    );
    expect([answer.headers[':status'], answer.headers['grpc-status'], answer.trailers]).toEqual([
      200,
      String(status.INTERNAL),
      undefined,
    ]);
    expect(decodeURI(String(answer.headers['grpc-message']))).toBe(
      'grpc-proxy: invalid grpc-timeout "123456789S"',
    );
  });

  it('keeps serving gRPC on the same connection afterwards', async () => {
    await rawRequest(session, { ':method': 'GET', ':path': '/' });
    const answer = await rawRequest(
      session,
      { ':method': 'POST', ':path': METHOD, 'content-type': 'application/grpc' },
      encodeMessage(Buffer.from('x')),
    );
    expect(answer.headers['grpc-status']).toBe(String(status.INTERNAL));
    expect(decodeURI(String(answer.headers['grpc-message']))).toBe(
      'grpc-proxy: director failed: the director must not see non-gRPC requests',
    );
    expect(directed).toBe(1);
  });
});

describe('backends that do not answer gRPC', () => {
  let backend: RawBackend | undefined;
  let proxy: RunningProxy;
  let client: Client;
  const warn = jest.spyOn(process, 'emitWarning');

  async function through(answer: Parameters<typeof startRawBackend>[0]) {
    backend = await startRawBackend(answer);
    const director: StreamDirector = () => ({ backend: { name: 'raw', target: backend!.target } });
    proxy = await startHttp2Proxy(director);
    client = new Client(proxy.address, credentials.createInsecure());
    const outcome = await callRawUnary(client, METHOD, Buffer.from('request'));
    return [outcome.status.code, outcome.status.details];
  }

  afterEach(async () => {
    client?.close();
    await proxy?.close();
    await backend?.close();
    backend = undefined;
    warn.mockReset();
  });

  it.each([
    [404, status.UNIMPLEMENTED, 'failed'],
    [503, status.UNAVAILABLE, 'unavailable'],
    [401, status.UNAUTHENTICATED, 'failed'],
    [500, status.UNKNOWN, 'failed'],
  ])(
    'maps an HTTP %i answer to %i, naming the proxy and the backend',
    async (http, code, reason) => {
      const result = await through((stream) => {
        stream.respond({ ':status': http, 'content-type': 'text/html' });
        stream.end('<html>error page</html>');
      });
      expect(result).toEqual([
        code,
        `grpc-proxy: backend raw ${reason}: it answered HTTP ${http}, not gRPC`,
      ]);
    },
  );

  it.each([
    [
      constants.NGHTTP2_REFUSED_STREAM,
      status.UNAVAILABLE,
      'unavailable: it reset the stream with REFUSED_STREAM (7)',
    ],
    [constants.NGHTTP2_CANCEL, status.CANCELLED, 'failed: it reset the stream with CANCEL (8)'],
    [
      constants.NGHTTP2_ENHANCE_YOUR_CALM,
      status.RESOURCE_EXHAUSTED,
      'failed: it reset the stream with ENHANCE_YOUR_CALM (11)',
    ],
    [
      constants.NGHTTP2_INADEQUATE_SECURITY,
      status.PERMISSION_DENIED,
      'failed: it reset the stream with INADEQUATE_SECURITY (12)',
    ],
    [
      constants.NGHTTP2_INTERNAL_ERROR,
      status.INTERNAL,
      'failed: it reset the stream with INTERNAL_ERROR (2)',
    ],
  ])('maps RST_STREAM %i to %i', async (rstCode, code, details) => {
    const result = await through((stream) => stream.close(rstCode));
    expect(result).toEqual([code, `grpc-proxy: backend raw ${details}`]);
  });

  it('maps a reset after the response headers the same way, as trailers', async () => {
    // On a bidi call the client has not half-closed: Node would turn a reset of a stream whose
    // request side ended into a plain end.
    backend = await startRawBackend((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      stream.write(encodeMessage(Buffer.from('one')), () =>
        stream.close(constants.NGHTTP2_REFUSED_STREAM),
      );
    });
    proxy = await startHttp2Proxy(() => ({ backend: { name: 'raw', target: backend!.target } }));
    client = new Client(proxy.address, credentials.createInsecure());
    const outcome = await openRawBidi(client, METHOD).outcome;
    expect([outcome.status.code, outcome.status.details, outcome.responses]).toEqual([
      status.UNAVAILABLE,
      'grpc-proxy: backend raw unavailable: it reset the stream with REFUSED_STREAM (7)',
      [Buffer.from('one')],
    ]);
    expect(outcome.events[0]).toBe('headers');
  });

  it('ends a call whose last message from the backend is truncated with INTERNAL', async () => {
    const result = await through((stream) => {
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc' },
        { waitForTrailers: true },
      );
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(encodeMessage(Buffer.from('cut short')).subarray(0, 8));
    });
    expect(result).toEqual([
      status.INTERNAL,
      'grpc-proxy: backend raw failed: its last message was truncated',
    ]);
  });

  it('reports a backend nobody listens on as UNAVAILABLE naming it', async () => {
    backend = await startRawBackend(() => undefined);
    const target = backend.target;
    await backend.close();
    backend = undefined;
    proxy = await startHttp2Proxy(() => ({ backend: { name: 'gone', target } }));
    client = new Client(proxy.address, credentials.createInsecure());
    const outcome = await callRawUnary(client, METHOD, Buffer.from('request'));
    expect(outcome.status.code).toBe(status.UNAVAILABLE);
    expect(outcome.status.details).toBe(
      `grpc-proxy: backend gone unavailable: connect ECONNREFUSED ${target}`,
    );
  });
});
