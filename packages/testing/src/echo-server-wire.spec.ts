import { Metadata, status as Status } from '@grpc/grpc-js';
import { gunzipSync } from 'node:zlib';
import { WireMessageReader, gzipFrame } from './grpc-frames';
import { onClientStreams } from './http2-taps';
import {
  OPAQUE_ECHO_METHOD,
  RESPONSE_ENCODING_KEY,
  callEcho,
  callRawBidi,
  callServerStream,
  echoRequest,
  openBidi,
  patternPayload,
} from './index';
import { useEchoServer } from './test-support/echo-fixture';

const echo = useEchoServer('backend-w');

/** A length-prefixed message: flag, 4-byte length, bytes. */
function frame(bytes: Buffer, compressed = false): Buffer {
  const prefix = Buffer.alloc(5);
  prefix[0] = compressed ? 1 : 0;
  prefix.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([prefix, bytes]);
}

describe('gRPC framing helpers', () => {
  it('reads messages, with their compressed flag, from chunks cut anywhere', () => {
    const wire = Buffer.concat([frame(Buffer.from('ab')), frame(Buffer.alloc(0), true)]);
    const reader = new WireMessageReader();
    for (const byte of wire) reader.push(Buffer.from([byte]));
    expect(reader.messages).toEqual([
      { compressed: false, bytes: Buffer.from('ab') },
      { compressed: true, bytes: Buffer.alloc(0) },
    ]);
  });

  it('gzips exactly one uncompressed message, and leaves anything else alone', () => {
    const zipped = gzipFrame(frame(Buffer.from('hello')));
    expect(zipped?.[0]).toBe(1);
    expect(zipped?.readUInt32BE(1)).toBe((zipped?.length ?? 0) - 5);
    expect(gunzipSync(zipped?.subarray(5) ?? Buffer.alloc(0)).toString()).toBe('hello');
    expect(gzipFrame(frame(Buffer.from('x'), true))).toBeUndefined();
    expect(gzipFrame(Buffer.concat([frame(Buffer.from('a')), frame(Buffer.from('b'))]))).toBe(
      undefined,
    );
  });
});

describe('the opaque echo method', () => {
  it('echoes bytes that are not protobuf, and logs them as payloads', async () => {
    const messages = [Buffer.from('{"json":true}'), Buffer.alloc(0), Buffer.alloc(3, 0xff)];
    const outcome = await callRawBidi(echo.client, OPAQUE_ECHO_METHOD, messages);

    expect(outcome.status.code).toBe(Status.OK);
    expect(outcome.responses).toEqual(messages);
    const call = await echo.server.waitForCall((c) => c.ended);
    expect(call.method).toBe(OPAQUE_ECHO_METHOD);
    expect(call.requests.map((r) => r.payload)).toEqual(messages);
    expect(call.responses.map((r) => [r.index, r.serverName])).toEqual([
      [0, 'backend-w'],
      [1, 'backend-w'],
      [2, 'backend-w'],
    ]);
    expect(call.halfClosed).toBe(true);
  });
});

describe('gzipped responses', () => {
  /** Runs a 2-response server stream with `metadata`; resolves with the wire's view. */
  async function serverStreamOnTheWire(metadata: Metadata) {
    let headers: Record<string, unknown> = {};
    const reader = new WireMessageReader();
    const stop = onClientStreams((stream) => {
      stream.on('response', (h) => (headers = h));
      stream.on('data', (chunk: Buffer) => reader.push(chunk));
    });
    try {
      const outcome = await callServerStream(
        echo.client,
        echoRequest({ responseCount: 2, responseSize: 1000 }),
        { metadata },
      );
      return { outcome, encoding: headers['grpc-encoding'], messages: reader.messages };
    } finally {
      stop();
    }
  }

  it('compresses each response message when the call asks for it, and they decode intact', async () => {
    const metadata = new Metadata();
    metadata.set(RESPONSE_ENCODING_KEY, 'gzip');
    const { outcome, encoding, messages } = await serverStreamOnTheWire(metadata);

    expect(outcome.status.code).toBe(Status.OK);
    expect(outcome.responses.map((r) => r.payload.equals(patternPayload(1000)))).toEqual([
      true,
      true,
    ]);
    expect(encoding).toBe('gzip');
    expect(messages.map((m) => m.compressed)).toEqual([true, true]);
  });

  it('sends plain messages otherwise', async () => {
    const { encoding, messages } = await serverStreamOnTheWire(new Metadata());
    expect(encoding).toBe('identity');
    expect(messages.map((m) => m.compressed)).toEqual([false, false]);
  });
});

describe('open streams', () => {
  it('lists the HTTP/2 streams open on the server, with their method and headers', async () => {
    expect(echo.server.openStreams()).toEqual([]);
    const metadata = new Metadata();
    metadata.set('x-which', 'this one');
    const session = openBidi(echo.client, { metadata });
    session.call.write(echoRequest({ payload: Buffer.from('open') }));
    await session.nextResponse();

    const open = echo.server.openStreams();
    expect(open.map((stream) => [stream.method, stream.headers['x-which']])).toEqual([
      ['/grpc_proxy.testing.v1.EchoService/Bidi', 'this one'],
    ]);
    session.call.end();
    expect((await session.outcome).status.code).toBe(Status.OK);
  });
});

describe('restart', () => {
  it('lets running calls finish on the old server, and serves new ones on the same address', async () => {
    const running = callEcho(echo.client, echoRequest({ delayMs: 200 }));
    await echo.server.waitForCall((c) => c.requests.length === 1);

    await echo.server.restart();
    const after = await callEcho(echo.client, echoRequest({ payload: Buffer.from('after') }));

    expect((await running).status.code).toBe(Status.OK);
    expect(after.status.code).toBe(Status.OK);
    expect(echo.server.calls.map((c) => c.status?.code)).toEqual([Status.OK, Status.OK]);
    // The counters are the new server's: only the call made after the restart.
    expect(await echo.server.callCounts()).toEqual({ started: 1, succeeded: 1, failed: 0 });
  });
});
