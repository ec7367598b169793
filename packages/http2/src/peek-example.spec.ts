import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import {
  EchoRequest,
  callClientStream,
  callEcho,
  createEchoClient,
  describeReadmeExamples,
  echoRequest,
  type EchoServiceClient,
} from '@grpc-proxy/testing';
// The README's Peek example is this file, run here.
import { useEchoPair } from './test-support/echo-pair';
import { startPeekExample } from '../examples/peek.example';

describeReadmeExamples(join(__dirname, '..'), ['examples/peek.example.ts']);

describe('README example: peek, routing on the first message', () => {
  const servers = useEchoPair();
  let proxy: Awaited<ReturnType<typeof startPeekExample>>;
  let client: EchoServiceClient;

  beforeEach(async () => {
    const { a, b } = servers;
    // The shard is the first byte of the echo request's payload.
    proxy = await startPeekExample([a.address, b.address], (m) => EchoRequest.decode(m).payload[0]);
    client = createEchoClient(proxy.address);
  });

  afterEach(async () => {
    client.close();
    await proxy.close();
  });

  it('sends each call to the shard its message names, the message unchanged', async () => {
    const served: string[] = [];
    for (const shard of [1, 0, 1, 1]) {
      const outcome = await callEcho(client, echoRequest({ payload: Buffer.from([shard, 9]) }));
      expect(outcome.status.code).toBe(status.OK);
      served.push(outcome.responses[0].serverName);
      expect(outcome.responses[0].payload).toEqual(Buffer.from([shard, 9]));
    }
    expect(served).toEqual(['b', 'a', 'b', 'b']);
    expect([servers.a.calls.length, servers.b.calls.length]).toEqual([1, 3]);
  });

  it('refuses a shard that does not exist, and sends a call without a message to shard 0', async () => {
    const outcome = await callEcho(client, echoRequest({ payload: Buffer.from([5]) }));
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.INVALID_ARGUMENT,
      'no shard 5',
    ]);
    const empty = await callClientStream(client, []);
    expect([empty.status.code, empty.responses[0].serverName]).toEqual([status.OK, 'a']);
    expect([servers.a.calls.length, servers.b.calls.length]).toEqual([1, 0]);
  });
});
