/**
 * The README's fan-out example (examples/fan-out.ts) on the grpc-js engine: three shards, each
 * answering with its own items in a repeated field of a ts-proto response.
 */
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import type { sendUnaryData, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import {
  callEcho,
  callServerStream,
  createEchoClient,
  EchoResponse,
  EchoServiceService,
  echoRequest,
} from '@grpc-proxy/testing';
import type { EchoRequest, EchoServiceClient, EchoServiceServer } from '@grpc-proxy/testing';
import { startFanOutProxy, type FanOutProxy } from '../examples/fan-out';
import { stopServer } from './test-support/health-server';

/** A shard: answers `Echo` with its items as `requestMetadata` entries, streams them one by one. */
async function startShard(name: string, items: readonly string[]): Promise<Shard> {
  const entries = items.map((value) => ({ key: 'item', value, binaryValue: Buffer.alloc(0) }));
  const unimplemented = (_: unknown, callback: sendUnaryData<EchoResponse>) =>
    callback({ code: status.UNIMPLEMENTED, details: 'not in this shard' });
  const implementation: EchoServiceServer = {
    echo: (_: ServerUnaryCall<EchoRequest, EchoResponse>, callback) =>
      callback(null, EchoResponse.fromPartial({ serverName: name, requestMetadata: entries })),
    serverStream: (call: ServerWritableStream<EchoRequest, EchoResponse>) => {
      entries.forEach((entry, index) =>
        call.write(EchoResponse.fromPartial({ serverName: name, index, requestMetadata: [entry] })),
      );
      call.end();
    },
    clientStream: unimplemented,
    bidi: (call) => call.destroy(new Error('unused')),
  };
  const server = new Server();
  server.addService(EchoServiceService, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return { server, address: `127.0.0.1:${port}` };
}

interface Shard {
  readonly server: Server;
  readonly address: string;
}

describe('the fan-out example, on the grpc-js engine', () => {
  let shards: Shard[];
  let proxy: FanOutProxy;
  let client: EchoServiceClient;

  beforeEach(async () => {
    shards = await Promise.all([
      startShard('a', ['apple', 'avocado']),
      startShard('b', ['banana']),
      startShard('c', ['cherry', 'cranberry', 'currant']),
    ]);
    proxy = await startFanOutProxy(shards.map((shard) => shard.address));
    client = createEchoClient(proxy.address);
  });

  afterEach(async () => {
    client.close();
    await proxy.close();
    await Promise.all(shards.map((shard) => stopServer(shard.server)));
  });

  it('merges the unary answers of all shards: the repeated field holds every item', async () => {
    const outcome = await callEcho(client, echoRequest());
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses).toHaveLength(1);
    const [merged] = outcome.responses;
    expect(merged.requestMetadata.map((entry) => entry.value)).toEqual([
      'apple',
      'avocado',
      'banana',
      'cherry',
      'cranberry',
      'currant',
    ]);
    expect(merged.serverName).toBe('c'); // a scalar: the last shard's value wins
  });

  it('streams every shard message to the client', async () => {
    const outcome = await callServerStream(client, echoRequest());
    expect(outcome.status.code).toBe(status.OK);
    const items = outcome.responses.map((r) => `${r.serverName}:${r.requestMetadata[0].value}`);
    expect(items.sort()).toEqual([
      'a:apple',
      'a:avocado',
      'b:banana',
      'c:cherry',
      'c:cranberry',
      'c:currant',
    ]);
  });
});
