import { connect } from 'node:http2';
import type { ClientHttp2Session, IncomingHttpHeaders } from 'node:http2';
import { once } from 'node:events';
import { startEchoServer } from './echo-server';
import type { EchoServerHandle } from './echo-server';
import { echoRequest } from './client-calls';
import { EchoRequest, HeadersMode } from './gen/grpc_proxy/testing/v1/echo';
import { entriesFromPairs } from './metadata-entries';

// What the echo server puts on the wire, seen with a bare node:http2 client: the knobs that
// promise a trailers-only response must produce one HEADERS frame that ends the stream.

let server: EchoServerHandle;
let session: ClientHttp2Session;

beforeEach(async () => {
  server = await startEchoServer();
  session = connect(`http://${server.address}`);
});

afterEach(async () => {
  session.close();
  server.forceClose();
});

interface WireResponse {
  headers: IncomingHttpHeaders;
  trailers: IncomingHttpHeaders | undefined;
  dataBytes: number;
}

async function unaryOnTheWire(request: EchoRequest): Promise<WireResponse> {
  const stream = session.request({
    ':method': 'POST',
    ':path': '/grpc_proxy.testing.v1.EchoService/Echo',
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  const message = Buffer.from(EchoRequest.encode(request).finish());
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  stream.end(Buffer.concat([prefix, message]));
  const result: WireResponse = { headers: {}, trailers: undefined, dataBytes: 0 };
  stream.on('response', (headers) => (result.headers = headers));
  stream.on('trailers', (trailers) => (result.trailers = trailers));
  stream.on('data', (chunk: Buffer) => (result.dataBytes += chunk.length));
  await once(stream, 'close');
  return result;
}

it('sends an error before any response as a single HEADERS frame (trailers-only)', async () => {
  const wire = await unaryOnTheWire(
    echoRequest({
      statusCode: 5,
      statusMessage: 'gone',
      responseTrailers: entriesFromPairs([['x-t', 'v']]),
    }),
  );

  expect(wire.headers[':status']).toBe(200);
  expect(wire.headers['grpc-status']).toBe('5');
  expect(wire.headers['grpc-message']).toBe('gone');
  expect(wire.headers['x-t']).toBe('v');
  expect(wire.trailers).toBeUndefined();
  expect(wire.dataBytes).toBe(0);
});

it('sends headers, then trailers, when headers went out first', async () => {
  const wire = await unaryOnTheWire(
    echoRequest({
      statusCode: 5,
      headersMode: HeadersMode.HEADERS_MODE_IMMEDIATE_THEN_WAIT,
      responseHeaders: entriesFromPairs([['x-h', 'v']]),
    }),
  );

  expect(wire.headers['grpc-status']).toBeUndefined();
  expect(wire.headers['x-h']).toBe('v');
  expect(wire.trailers?.['grpc-status']).toBe('5');
  expect(wire.dataBytes).toBe(0);
});

it('sends headers, one message, and trailers on success', async () => {
  const wire = await unaryOnTheWire(echoRequest({ payload: Buffer.from('abc') }));

  expect(wire.headers['grpc-status']).toBeUndefined();
  expect(wire.trailers?.['grpc-status']).toBe('0');
  expect(wire.dataBytes).toBeGreaterThan(5);
});
