import * as grpc from '@grpc/grpc-js';
import { deserializeRaw, rawMethod, serializeRaw } from '@grpc-proxy/codec';

/** Serves a raw-bytes method with grpc-js and calls it: the bytes travel untouched both ways. */
export async function rawMethodExample(): Promise<string> {
  // Unary; pass { requestStream: true, responseStream: true } for a bidi-streaming method.
  const shout = rawMethod('/demo.Bytes/Shout');

  const server = new grpc.Server();
  server.addService(
    { Shout: shout },
    {
      Shout: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
        callback(null, Buffer.from(call.request.toString('latin1').toUpperCase(), 'latin1')),
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );

  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  try {
    const reply = await new Promise<Buffer>((resolve, reject) =>
      client.makeUnaryRequest(
        shout.path,
        serializeRaw,
        deserializeRaw,
        Buffer.from('raw bytes'),
        (error, bytes) => (error ? reject(error) : resolve(bytes as Buffer)),
      ),
    );
    return reply.toString('latin1'); // 'RAW BYTES'
  } finally {
    client.close();
    server.forceShutdown();
  }
}

if (require.main === module) rawMethodExample().then(console.log);
