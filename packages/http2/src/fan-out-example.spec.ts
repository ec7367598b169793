import { join } from 'node:path';
import { Metadata, status } from '@grpc/grpc-js';
import type { FanOutOutcome } from '@grpc-proxy/handler';
import {
  ECHO_SERVICE_NAME,
  callEcho,
  callServerStream,
  createEchoClient,
  describeReadmeExamples,
  echoRequest,
  refusedAddress,
  startEchoServer,
  type EchoServerHandle,
  type EchoServiceClient,
} from '@grpc-proxy/testing';
import { startFanOutExample } from '../examples/fan-out.example';

// The README's Fan-out example is this file, run here.
describeReadmeExamples(join(__dirname, '..'), ['examples/fan-out.example.ts']);

describe('README example: fan-out to every shard', () => {
  let shards: EchoServerHandle[];
  let proxy: Awaited<ReturnType<typeof startFanOutExample>>;
  let client: EchoServiceClient;
  let calls: (readonly FanOutOutcome[])[];

  beforeEach(async () => {
    shards = [await startEchoServer({ name: 's0' }), await startEchoServer({ name: 's1' })];
    calls = [];
    const down = await refusedAddress();
    const streaming = new Set([`/${ECHO_SERVICE_NAME}/ServerStream`]);
    const targets = [shards[0].address, shards[1].address, down];
    proxy = await startFanOutExample(targets, streaming, (outcomes) => calls.push(outcomes));
    client = createEchoClient(proxy.address);
  });

  afterEach(async () => {
    client.close();
    await proxy.close();
    for (const shard of shards) shard.forceClose();
  });

  it('merges unary responses (repeated fields append), leaving out the shard that is down', async () => {
    const metadata = new Metadata();
    metadata.set('tenant', 't1');
    const request = echoRequest({ echoMetadata: true });
    const outcome = await callEcho(client, request, { metadata });
    expect(outcome.status.code).toBe(status.OK);
    const [merged] = outcome.responses;
    expect(merged.serverName).toBe('s1');
    const tenants = merged.requestMetadata.filter((entry) => entry.key === 'tenant');
    expect(tenants.map((entry) => entry.value)).toEqual(['t1', 't1']);
    expect(calls.map((c) => c.map((o) => [o.backend, o.code, o.messages]))).toEqual([
      [
        ['shard-0', status.OK, 1],
        ['shard-1', status.OK, 1],
        ['shard-2', status.UNAVAILABLE, 0],
      ],
    ]);
  });

  it('streams every shard message of a streaming method', async () => {
    const outcome = await callServerStream(client, echoRequest({ responseCount: 3 }));
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses.map((r) => r.serverName).sort()).toEqual([
      ...['s0', 's0', 's0', 's1', 's1', 's1'],
    ]);
  });
});
