import * as http2 from 'node:http2';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Metadata, credentials, status, type ChannelCredentials, type Client } from '@grpc/grpc-js';
import {
  BackendProcess,
  FrameFlag,
  FrameType,
  HeaderMirror,
  HealthyStream,
  ProxyProcess,
  RawFrameConnection,
  RawH2Session,
  createTestPki,
  echoUnary,
  encodeFrame,
  frameErrorCode,
  grpcFrame,
  grpcMessageOf,
  grpcRequestHeaders,
  grpcStatusOf,
  hpackBlock,
  probeClient,
  probeService,
  type TestPki,
} from '../src';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startProxy(options: Parameters<typeof ProxyProcess.start>[0]) {
  const proxy = await ProxyProcess.start(options);
  cleanups.push(() => proxy.stop());
  return proxy;
}

async function startMirror(): Promise<HeaderMirror> {
  const mirror = await HeaderMirror.start();
  cleanups.push(() => mirror.close());
  return mirror;
}

function session(address: string): RawH2Session {
  const raw = new RawH2Session(address);
  cleanups.push(() => raw.close());
  return raw;
}

function client(address: string, channelCredentials?: ChannelCredentials): Client {
  const made = probeClient(address, channelCredentials, { 'grpc.use_local_subchannel_pool': 1 });
  cleanups.push(() => made.close());
  return made;
}

const HELLO = grpcFrame(Buffer.from('hello'));

describe('a client cannot forge the status', () => {
  it('grpc-status / grpc-message sent as request metadata change nothing', async () => {
    const backend = await BackendProcess.start();
    cleanups.push(() => backend.stop());
    const proxy = await startProxy({ backend: backend.address });
    const forged = { 'grpc-status': '7', 'grpc-message': 'forged by the client' };
    const raw = session(proxy.address);

    const ok = await raw.request(
      { ...grpcRequestHeaders(probeService.Unary.path), ...forged },
      (stream) => stream.end(HELLO),
    );
    expect([grpcStatusOf(ok), grpcMessageOf(ok), ok.data]).toEqual([status.OK, 'OK', HELLO]);

    const failing = await raw.request(
      {
        ...grpcRequestHeaders(probeService.Unary.path),
        'grpc-status': '0',
        'grpc-message': 'all fine, says the client',
        'x-fail-code': String(status.NOT_FOUND),
        'x-fail-message': 'really not found',
      },
      (stream) => stream.end(HELLO),
    );
    expect([grpcStatusOf(failing), grpcMessageOf(failing)]).toEqual([
      status.NOT_FOUND,
      'really not found',
    ]);
  });

  it('the backend never receives grpc-status / grpc-message request headers', async () => {
    const mirror = await startMirror();
    const proxy = await startProxy({ backend: mirror.address });
    const outcome = await session(proxy.address).request(
      {
        ...grpcRequestHeaders('/any.Service/Method'),
        'grpc-status': '7',
        'grpc-message': 'forged',
        'x-kept': 'yes',
      },
      (stream) => stream.end(HELLO),
    );
    expect(grpcStatusOf(outcome)).toBe(status.OK);
    expect(mirror.requests).toHaveLength(1);
    expect(mirror.requests[0]['x-kept']).toBe('yes');
    expect(mirror.requests[0]['grpc-status']).toBeUndefined();
    expect(mirror.requests[0]['grpc-message']).toBeUndefined();
  });
});

describe('hop-by-hop and stripped keys never reach the backend', () => {
  it('drops a host header sent by the client; forwards ordinary metadata', async () => {
    const mirror = await startMirror();
    const proxy = await startProxy({ backend: mirror.address });
    const outcome = await session(proxy.address).request(
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
      const mirror = await startMirror();
      const proxy = await startProxy({ backend: mirror.address });
      const connection = await RawFrameConnection.open(proxy.address);
      cleanups.push(() => connection.close());
      connection.send(
        encodeFrame(
          FrameType.HEADERS,
          FrameFlag.END_HEADERS | FrameFlag.END_STREAM,
          1,
          hpackBlock([
            [':method', 'POST'],
            [':path', '/any.Service/Method'],
            [':scheme', 'http'],
            [':authority', 'e2e'],
            ['content-type', 'application/grpc'],
            [name, value],
          ]),
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
    const mirror = await startMirror();
    const proxy = await startProxy({ backend: mirror.address });
    const connection = await RawFrameConnection.open(proxy.address);
    cleanups.push(() => connection.close());
    connection.send(
      encodeFrame(
        FrameType.HEADERS,
        FrameFlag.END_HEADERS,
        1,
        hpackBlock([
          [':method', 'POST'],
          [':path', '/any.Service/Method'],
          [':scheme', 'http'],
          [':authority', 'e2e'],
          ['content-type', 'application/grpc'],
          ['te', 'trailers'],
          ['http2-settings', 'AAMAAABkAAQAAP__'],
          ['x-kept', 'yes'],
        ]),
      ),
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
    const blue = await startMirror();
    const green = await startMirror();
    const proxy = await startProxy({
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
    const probe = client(proxy.address);
    const metadata = new Metadata();
    metadata.set('x-route-to', 'blue');
    metadata.set('x-tenant-secret', 's3cret');
    metadata.set('x-kept', 'yes');
    const outcome = await echoUnary(probe, Buffer.from('hi'), metadata);
    expect(outcome.code).toBe(status.OK);
    expect([blue.requests.length, green.requests.length]).toEqual([1, 0]);
    const seen = blue.requests[0];
    expect(seen['x-kept']).toBe('yes');
    expect(seen['x-route-to']).toBeUndefined();
    expect(seen['x-tenant-secret']).toBeUndefined();
  });
});

describe('TLS', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = createTestPki();
  });
  afterAll(() => pki?.remove());

  async function tlsProxy(backendAddress: string, mutual: boolean) {
    return startProxy({
      config: {
        tls: {
          cert: pki.server.cert,
          key: pki.server.key,
          ...(mutual && { clientCa: pki.ca.cert }),
        },
        backends: [{ name: 'probe', targets: [backendAddress] }],
      },
    });
  }

  async function probeBackend(tls?: { cert: string; key: string }) {
    const backend = await BackendProcess.start({ tls });
    cleanups.push(() => backend.stop());
    return backend;
  }

  const trusting = () => credentials.createSsl(pki.ca.certPem);

  it('serves TLS clients that trust its CA, and refuses plaintext clients', async () => {
    const backend = await probeBackend();
    const proxy = await tlsProxy(backend.address, false);
    const ok = await echoUnary(client(proxy.address, trusting()), Buffer.from('tls'));
    expect([ok.code, ok.response?.toString()]).toEqual([status.OK, 'tls']);
    const plain = await echoUnary(client(proxy.address), Buffer.from('plain'));
    expect(plain.code).toBe(status.UNAVAILABLE);
  });

  it('mutual TLS: accepts a client certificate from its CA, refuses a missing or foreign one', async () => {
    const backend = await probeBackend();
    const proxy = await tlsProxy(backend.address, true);
    const good = credentials.createSsl(pki.ca.certPem, pki.client.keyPem, pki.client.certPem);
    const ok = await echoUnary(client(proxy.address, good), Buffer.from('mtls'));
    expect([ok.code, ok.response?.toString()]).toEqual([status.OK, 'mtls']);

    const missing = await echoUnary(client(proxy.address, trusting()), Buffer.from('x'));
    expect(missing.code).toBe(status.UNAVAILABLE);
    const foreign = credentials.createSsl(
      pki.ca.certPem,
      pki.rogueClient.keyPem,
      pki.rogueClient.certPem,
    );
    const rogue = await echoUnary(client(proxy.address, foreign), Buffer.from('x'));
    expect(rogue.code).toBe(status.UNAVAILABLE);
    expect(backend.events().filter((event) => event.event === 'call')).toEqual([]);
  });

  it('a bad handshake disturbs no other connection', async () => {
    const backend = await probeBackend();
    const proxy = await tlsProxy(backend.address, true);
    const good = credentials.createSsl(pki.ca.certPem, pki.client.keyPem, pki.client.certPem);
    const healthy = new HealthyStream(client(proxy.address, good));
    cleanups.push(() => healthy.cancel());
    expect((await healthy.ping(Buffer.from('before'))).toString()).toBe('before');

    const [host, port] = [proxy.address.split(':')[0], Number(proxy.address.split(':')[1])];
    // Plaintext HTTP/2 preface and garbage on the TLS port.
    await new Promise<void>((resolve) => {
      const socket = netConnect({ host, port }, () =>
        socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x01garbage'),
      );
      socket.on('error', () => undefined);
      socket.on('close', () => resolve());
      socket.on('data', () => undefined);
    });
    // A TLS client that does not trust the proxy's certificate aborts its own handshake.
    await new Promise<void>((resolve) => {
      const socket = tlsConnect({ host, port, ALPNProtocols: ['h2'] });
      socket.on('error', () => resolve());
      socket.on('secureConnect', () => resolve());
    });
    // A client with a foreign certificate, refused by the proxy.
    const foreign = credentials.createSsl(
      pki.ca.certPem,
      pki.rogueClient.keyPem,
      pki.rogueClient.certPem,
    );
    expect((await echoUnary(client(proxy.address, foreign), Buffer.from('x'))).code).toBe(
      status.UNAVAILABLE,
    );

    expect((await healthy.ping(Buffer.from('after'))).toString()).toBe('after');
    expect((await healthy.finish()).code).toBe(status.OK);
    const next = await echoUnary(client(proxy.address, good), Buffer.from('next'));
    expect([next.code, next.response?.toString()]).toEqual([status.OK, 'next']);
    expect(proxy.process.running).toBe(true);
  });

  it('TLS to a backend with a private CA; a backend certificate it cannot verify is refused', async () => {
    const backend = await probeBackend({ cert: pki.backend.cert, key: pki.backend.key });
    const trusted = await startProxy({
      config: {
        backends: [{ name: 'probe', targets: [backend.address], tls: { ca: pki.backendCa.cert } }],
      },
    });
    const ok = await echoUnary(client(trusted.address), Buffer.from('to tls backend'));
    expect([ok.code, ok.response?.toString()]).toEqual([status.OK, 'to tls backend']);

    const untrusting = await startProxy({
      config: {
        backends: [{ name: 'probe', targets: [backend.address], tls: { ca: pki.rogueCa.cert } }],
      },
    });
    const refused = await echoUnary(client(untrusting.address), Buffer.from('x'));
    expect(refused.code).toBe(status.UNAVAILABLE);
    expect(refused.details).toMatch(/^grpc-proxy: backend probe\/127\.0\.0\.1:\d+ unavailable: /);
  });
});
