/** Hostile or broken HTTP/2 input from clients: answered with a status, never a crash or a leak. */
import { constants, type ClientHttp2Session } from 'node:http2';
import { status } from '@grpc/grpc-js';
import { useHarness } from './test-support/harness';
import { rawRequest, rawSession } from './test-support/raw-h2';

const ECHO = '/grpc_proxy.testing.v1.EchoService/Echo';
const GRPC = {
  ':method': 'POST',
  ':path': ECHO,
  'content-type': 'application/grpc',
  te: 'trailers',
};

function grpcStatus(answer: {
  headers: Record<string, unknown>;
  trailers?: Record<string, unknown>;
}) {
  const block = answer.trailers ?? answer.headers;
  return [Number(block['grpc-status']), decodeURI(String(block['grpc-message'] ?? ''))];
}

describe('hostile client input', () => {
  const h = useHarness({ maxReceiveMessageLength: 1024 });
  let session: ClientHttp2Session;

  beforeEach(() => {
    session = rawSession(h.proxy.address);
  });

  afterEach(() => session.destroy());

  it('ends a message with reserved flag bits with INTERNAL', async () => {
    const answer = await rawRequest(session, GRPC, Buffer.from([0x80, 0, 0, 0, 1, 7]));
    expect(grpcStatus(answer)).toEqual([
      status.INTERNAL,
      'grpc-proxy: message from client has reserved flag bits set',
    ]);
  });

  it('refuses a prefix announcing 4 GiB before any payload arrives', async () => {
    const answer = await rawRequest(session, GRPC, Buffer.from([0, 0xff, 0xff, 0xff, 0xff]));
    expect(grpcStatus(answer)).toEqual([
      status.RESOURCE_EXHAUSTED,
      'grpc-proxy: message from client is 4294967295 bytes, more than maxReceiveMessageLength (1024)',
    ]);
  });

  it('ends a stream cut inside a message with INTERNAL', async () => {
    const answer = await rawRequest(session, GRPC, Buffer.from([0, 0, 0, 0, 9, 1, 2]));
    expect(grpcStatus(answer)).toEqual([
      status.INTERNAL,
      'grpc-proxy: the client ended its stream inside a message',
    ]);
  });

  it('forwards a call whose -bin header is not base64 when the director reads the metadata', async () => {
    h.director = (call) => {
      void call.metadata.get('x-blob-bin');
      return h.route();
    };
    const answer = await rawRequest(
      session,
      { ...GRPC, 'x-blob-bin': '%%% not base64 %%%' },
      Buffer.from([0, 0, 0, 0, 0]),
    );
    // Decoded leniently (as grpc-js does): the call goes through.
    expect([answer.headers[':status'], grpcStatus(answer)]).toEqual([200, [status.OK, 'OK']]);
  });

  it('survives streams opened and reset at once, in bulk, and runs no call afterwards', async () => {
    const resets = Array.from({ length: 200 }, () => {
      const stream = session.request(GRPC);
      stream.on('error', () => undefined);
      stream.close(constants.NGHTTP2_CANCEL);
      return new Promise((resolve) => stream.on('close', resolve));
    });
    await Promise.all(resets);
    const answer = await rawRequest(session, GRPC, Buffer.from([0, 0, 0, 0, 0]));
    expect(answer.headers[':status']).toBe(200);
    await h.reported(h.started.count);
    expect(h.proxy.proxy.activeCalls).toBe(0);
  });
});
