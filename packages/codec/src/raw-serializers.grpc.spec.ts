import * as grpc from '@grpc/grpc-js';
import { patternPayload } from '@grpc-proxy/testing';
import { deserializeRaw, rawMethod, serializeRaw } from './raw-serializers';

const MiB = 1024 * 1024;
const LIMIT_OPTIONS = { 'grpc.max_receive_message_length': 6 * MiB };

const unary = rawMethod('/codec.test.RawBytes/Unary');
const bidi = rawMethod('/codec.test.RawBytes/Bidi', { requestStream: true, responseStream: true });

// Compile-time check: the structural definition is what grpc-js expects.
const asGrpcDefinition: grpc.MethodDefinition<Buffer, Buffer> = unary;

/** What the server replies: a marker followed by the request bytes, so both directions are checked. */
function reply(request: Buffer): Buffer {
  return Buffer.concat([Buffer.from('reply:'), request]);
}

describe('identity serializers over a real grpc-js server and client', () => {
  let server: grpc.Server;
  let client: grpc.Client;
  let address: string;
  let received: Buffer[];

  beforeEach(async () => {
    received = [];
    server = new grpc.Server(LIMIT_OPTIONS);
    server.addService(
      { Unary: asGrpcDefinition, Bidi: bidi },
      {
        Unary: (
          call: grpc.ServerUnaryCall<Buffer, Buffer>,
          callback: grpc.sendUnaryData<Buffer>,
        ) => {
          received.push(call.request);
          callback(null, reply(call.request));
        },
        Bidi: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
          call.on('data', (request: Buffer) => {
            received.push(request);
            call.write(reply(request));
          });
          call.on('end', () => call.end());
        },
      },
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    address = `127.0.0.1:${port}`;
    client = new grpc.Client(address, grpc.credentials.createInsecure(), LIMIT_OPTIONS);
  });

  afterEach(() => {
    client.close();
    server.forceShutdown();
  });

  function callUnary(request: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) =>
      client.makeUnaryRequest(
        unary.path,
        serializeRaw,
        deserializeRaw,
        request,
        (error, response) => (error ? reject(error) : resolve(response as Buffer)),
      ),
    );
  }

  it.each([
    ['empty', 0],
    ['1 byte', 1],
    ['1 KiB', 1024],
    ['5 MiB', 5 * MiB],
  ])('a unary raw method receives and returns exact bytes: %s', async (_name, length) => {
    const request = patternPayload(length);
    const response = await callUnary(request);
    expect(received).toHaveLength(1);
    expect(received[0].equals(request)).toBe(true);
    expect(response.equals(reply(request))).toBe(true);
  });

  it('a request that is not bytes fails with INTERNAL naming serializeRaw, and never reaches the server', async () => {
    const error = await new Promise<grpc.ServiceError>((resolve, reject) =>
      client.makeUnaryRequest(
        unary.path,
        serializeRaw,
        deserializeRaw,
        'text' as unknown as Buffer,
        (e) => (e ? resolve(e) : reject(new Error('expected the call to fail'))),
      ),
    );
    expect(error.code).toBe(grpc.status.INTERNAL);
    expect(error.details).toContain('serializeRaw expects a Buffer or Uint8Array, got string');
    expect(received).toHaveLength(0);
  });

  it('a 5 MiB response fails with RESOURCE_EXHAUSTED when the client keeps the 4 MiB default', async () => {
    const defaultClient = new grpc.Client(address, grpc.credentials.createInsecure());
    try {
      const error = await new Promise<grpc.ServiceError>((resolve, reject) =>
        defaultClient.makeUnaryRequest(
          unary.path,
          serializeRaw,
          deserializeRaw,
          patternPayload(5 * MiB),
          (e) => (e ? resolve(e) : reject(new Error('expected the call to fail'))),
        ),
      );
      expect(error.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(received).toHaveLength(1);
    } finally {
      defaultClient.close();
    }
  });

  it('a bidi raw method built with makeGenericClientConstructor streams exact bytes both ways', async () => {
    const Constructor = grpc.makeGenericClientConstructor({ Bidi: bidi }, 'codec.test.RawBytes');
    const streaming = new Constructor(address, grpc.credentials.createInsecure(), LIMIT_OPTIONS);
    try {
      const requests = [
        patternPayload(0),
        patternPayload(3),
        patternPayload(5 * MiB),
        patternPayload(70000),
      ];
      const call = (
        streaming as unknown as { Bidi(): grpc.ClientDuplexStream<Buffer, Buffer> }
      ).Bidi();
      const responses: Buffer[] = [];
      const ended = new Promise<void>((resolve, reject) => {
        call.on('data', (response: Buffer) => responses.push(response));
        call.on('error', reject);
        call.on('end', resolve);
      });
      for (const request of requests) call.write(request);
      call.end();
      await ended;
      expect(received.map((bytes) => bytes.length)).toEqual([0, 3, 5 * MiB, 70000]);
      received.forEach((bytes, i) => expect(bytes.equals(requests[i])).toBe(true));
      expect(responses).toHaveLength(4);
      responses.forEach((bytes, i) => expect(bytes.equals(reply(requests[i]))).toBe(true));
    } finally {
      streaming.close();
    }
  });
});
