import { join } from 'node:path';
import { Metadata, status } from '@grpc/grpc-js';
import {
  callEcho,
  callRawUnary,
  createEchoClient,
  describeReadmeExamples,
  echoRequest,
  type EchoServiceClient,
} from '@grpc-proxy/testing';
// The README's example is this file, run here.
import { useEchoPair } from './test-support/echo-pair';
import { startHttp2Example } from '../examples/http2-proxy.example';

describeReadmeExamples(join(__dirname, '..'), ['examples/http2-proxy.example.ts']);

describe('README example: the http2 engine with directors of @grpc-proxy/director', () => {
  const servers = useEchoPair();
  let proxy: Awaited<ReturnType<typeof startHttp2Example>>;
  let client: EchoServiceClient;

  beforeEach(async () => {
    const { a, b } = servers;
    proxy = await startHttp2Example({ a: a.address, b: b.address });
    client = createEchoClient(proxy.address);
  });

  afterEach(async () => {
    client.close();
    await proxy.close();
  });

  it('rotates the echo service over both backends and adds x-forwarded-for', async () => {
    const served: string[] = [];
    for (let i = 0; i < 4; i++) {
      const outcome = await callEcho(client, echoRequest({ echoMetadata: true }));
      expect(outcome.status.code).toBe(status.OK);
      served.push(outcome.responses[0].serverName);
      const forwarded = outcome.responses[0].requestMetadata.filter(
        (entry) => entry.key === 'x-forwarded-for',
      );
      expect(forwarded.map((entry) => entry.value)).toEqual(['127.0.0.1']);
    }
    expect(served.sort()).toEqual(['a', 'a', 'b', 'b']);
  });

  it('refuses admin.Internal with the exact status the director threw', async () => {
    const outcome = await callRawUnary(client, '/admin.Internal/Reboot', Buffer.alloc(0), {
      metadata: new Metadata(),
    });
    expect(outcome.status.code).toBe(status.PERMISSION_DENIED);
    expect(outcome.status.details).toBe('admin.Internal is not exposed');
  });
});
