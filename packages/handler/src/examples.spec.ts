import { join } from 'node:path';
import { Metadata, status, type Client } from '@grpc/grpc-js';
import { callRawUnary, describeReadmeExamples } from '@grpc-proxy/testing';
// The README's example is this file, run here.
import { startTransparentProxy } from '../examples/transparent-proxy.example';
import { entries, rawClient } from './test-support/grpc-fixtures';
import {
  ECHO,
  UNKNOWN_METHOD,
  startTestBackend,
  type TestBackend,
} from './test-support/test-backend';

describeReadmeExamples(join(__dirname, '..'), ['examples/transparent-proxy.example.ts']);

describe('README example: a transparent proxy in a few lines', () => {
  let backend: TestBackend;
  let proxy: Awaited<ReturnType<typeof startTransparentProxy>>;
  let client: Client;

  beforeEach(async () => {
    jest.spyOn(console, 'debug').mockImplementation(() => undefined);
    backend = await startTestBackend();
    proxy = await startTransparentProxy(backend.target);
    client = rawClient(proxy.address);
  });

  afterEach(async () => {
    client.close();
    proxy.close();
    await backend.close();
    jest.restoreAllMocks();
  });

  it('forwards calls of any service, strips the routing key and adds x-forwarded-for', async () => {
    const md = new Metadata();
    md.set('x-route-to', 'blue');
    const known = await callRawUnary(client, `${ECHO}/Unary`, Buffer.from('hi'), { metadata: md });
    const unknown = await callRawUnary(client, UNKNOWN_METHOD, Buffer.from('there'));
    expect([known.status.code, known.responses]).toEqual([status.OK, [Buffer.from('echo:hi')]]);
    expect([unknown.status.code, unknown.responses]).toEqual([
      status.OK,
      [Buffer.from('echo:there')],
    ]);
    const atBackend = entries(backend.seen[0].metadata);
    expect(atBackend['x-route-to']).toBeUndefined();
    expect(atBackend['x-forwarded-for']).toEqual(['127.0.0.1']);
    expect(console.debug).toHaveBeenCalledWith(`${ECHO}/Unary`, status.OK, expect.any(Number));
  });

  it('rejects with the director error', async () => {
    const outcome = await callRawUnary(client, '/admin.Internal/Reset', Buffer.alloc(0));
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.PERMISSION_DENIED,
      'admin.Internal is not exposed',
    ]);
    expect(backend.seen).toHaveLength(0);
  });
});
