import { join } from 'node:path';
import { status, type Client } from '@grpc/grpc-js';
import { callRawServerStream, callRawUnary, describeReadmeExamples } from '@grpc-proxy/testing';
// The README's example is this file, run here.
import { startFanOutProxy } from '../examples/fan-out.example';
import { startLegBackend, type LegBackend } from './test-support/fan-out-backend';
import { eventually, rawClient } from './test-support/grpc-fixtures';
import { ECHO } from './test-support/test-backend';

describeReadmeExamples(join(__dirname, '..'), ['examples/fan-out.example.ts']);

describe('README example: fanning calls out to every shard', () => {
  let shards: LegBackend[];
  let proxy: Awaited<ReturnType<typeof startFanOutProxy>>;
  let client: Client;

  beforeEach(async () => {
    shards = await Promise.all(['a', 'b', 'c'].map((id) => startLegBackend(id)));
    proxy = await startFanOutProxy(
      shards.map((shard) => shard.target),
      new Set([`${ECHO}/Unary`]),
    );
    client = rawClient(proxy.address);
  });

  afterEach(async () => {
    client.close();
    proxy.close();
    for (const shard of shards) await shard.close();
  });

  it('merges a unary call and interleaves a server stream; a failed shard is left out', async () => {
    const unary = await callRawUnary(client, `${ECHO}/Unary`, Buffer.from('x'));
    expect([unary.status.code, unary.responses.map(String)]).toEqual([status.OK, ['a:xb:xc:x']]);
    shards[1].mode = 'fail';
    const stream = await callRawServerStream(client, `${ECHO}/ServerStream`, Buffer.from('q'));
    expect([stream.status.code, stream.responses.map(String).sort()]).toEqual([
      status.OK,
      ['a-0', 'a-1', 'a-2', 'c-0', 'c-1', 'c-2'],
    ]);
    await eventually(() => proxy.reports.length === 2, 'both calls reported');
    expect(proxy.reports.map((report) => report.fanOut?.map((shard) => shard.code))).toEqual([
      [status.OK, status.OK, status.OK],
      [status.OK, status.ABORTED, status.OK],
    ]);
    expect(proxy.reports.map((report) => report.backend)).toEqual(['all-shards', 'all-shards']);
  });
});
