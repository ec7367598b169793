/** The `limits` towards clients reach each engine: what a client connection is told and how long it may idle. */
import { connect, constants, type ClientHttp2Session, type Settings } from 'node:http2';
import { startEchoServer, type EchoServerHandle } from '@grpc-proxy/testing';
import { parseConfig } from './config/load';
import { createLogger } from './logging';
import { startProxy, type ProxyHandle } from './proxy';

describe.each([
  // Both engines run maxConcurrentStreams calls per connection and queue the others; the http2
  // engine announces ten times it, the grpc-js one twice.
  ['http2', 30],
  ['grpc-js', 6],
])('limits towards clients on the %s engine', (engine, announced) => {
  let backend: EchoServerHandle | undefined;
  let proxy: ProxyHandle | undefined;
  let session: ClientHttp2Session | undefined;

  afterEach(async () => {
    session?.destroy();
    await proxy?.close(0);
    await backend?.close();
  });

  it('announces the stream limit, and closes a connection left without a call for idleTimeoutMs', async () => {
    backend = await startEchoServer({ name: 'backend' });
    const config = parseConfig(
      `engine: ${engine}\nlisten: 127.0.0.1:0\nbackends: [{ name: a, targets: ["${backend.address}"] }]\n` +
        'limits: { maxConcurrentStreams: 3, idleTimeoutMs: 200 }',
      'test',
      __dirname,
    );
    proxy = await startProxy(config, { logger: createLogger({ level: 'silent' }) });
    session = connect(`http://${proxy.address}`);
    session.on('error', () => undefined);
    const settings = await new Promise<Settings>((resolve) =>
      session!.once('remoteSettings', resolve),
    );
    expect(settings.maxConcurrentStreams).toBe(announced);
    const goaway = await new Promise<number>((resolve) => session!.once('goaway', resolve));
    expect(goaway).toBe(constants.NGHTTP2_NO_ERROR);
  });
});
