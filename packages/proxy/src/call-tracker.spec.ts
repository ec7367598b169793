import {
  Client,
  Server,
  ServerCredentials,
  credentials,
  status,
  type ServerDuplexStream,
  type ServiceError,
  type StatusObject,
} from '@grpc/grpc-js';
import { createCallTracker } from './call-tracker';

const identity = (buffer: Buffer) => buffer;
const bidi = {
  path: '/test.Stream/Bidi',
  requestStream: true,
  responseStream: true,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
};

describe('createCallTracker', () => {
  let server: Server;
  let client: Client;
  const tracker = createCallTracker();
  let serverCalls: ServerDuplexStream<Buffer, Buffer>[];

  beforeEach(async () => {
    serverCalls = [];
    server = new Server({ interceptors: [tracker.interceptor] });
    server.addService(
      { Bidi: bidi },
      {
        Bidi: (call: ServerDuplexStream<Buffer, Buffer>) => {
          serverCalls.push(call);
          call.on('data', (chunk: Buffer) => {
            if (chunk.toString() === 'end') call.end();
            else call.write(chunk);
          });
        },
      },
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  });
  afterEach(() => {
    client.close();
    server.forceShutdown();
  });

  function openStream() {
    const call = client.makeBidiStreamRequest(bidi.path, identity, identity);
    const statusPromise = new Promise<StatusObject>((resolve) => call.on('status', resolve));
    const errors: ServiceError[] = [];
    call.on('error', (error: ServiceError) => errors.push(error));
    const firstEcho = new Promise<Buffer>((resolve) => call.once('data', resolve));
    return { call, statusPromise, errors, firstEcho };
  }

  it('counts active calls until they end normally', async () => {
    const stream = openStream();
    stream.call.write(Buffer.from('hi'));
    expect((await stream.firstEcho).toString()).toBe('hi');
    expect(tracker.activeCalls).toBe(1);
    stream.call.write(Buffer.from('end'));
    expect((await stream.statusPromise).code).toBe(status.OK);
    expect(tracker.activeCalls).toBe(0);
    expect(tracker.endAll('unused')).toBe(0);
  });

  it('ends active calls with UNAVAILABLE and the message, and tells the handler', async () => {
    const first = openStream();
    const second = openStream();
    first.call.write(Buffer.from('a'));
    second.call.write(Buffer.from('b'));
    await Promise.all([first.firstEcho, second.firstEcho]);
    const handlerSawCancel = Promise.all(
      serverCalls.map(
        (call) => new Promise<void>((resolve) => call.on('cancelled', () => resolve())),
      ),
    );

    expect(tracker.endAll('grpc-proxy: shutting down')).toBe(2);

    for (const stream of [first, second]) {
      const ended = await stream.statusPromise;
      expect([ended.code, ended.details]).toEqual([
        status.UNAVAILABLE,
        'grpc-proxy: shutting down',
      ]);
      expect(stream.errors.map((error) => error.code)).toEqual([status.UNAVAILABLE]);
    }
    await handlerSawCancel;
    expect(serverCalls.every((call) => call.cancelled)).toBe(true);
    expect(tracker.activeCalls).toBe(0);
  });
});
