import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import type { MirrorReport } from '@grpc-proxy/handler';
import {
  ECHO_SERVICE_NAME,
  callBidi,
  createEchoClient,
  describeReadmeExamples,
  echoRequest,
  type EchoServiceClient,
} from '@grpc-proxy/testing';
// The README's Mirror example is this file, run here.
import { useEchoPair } from './test-support/echo-pair';
import { startMirrorExample } from '../examples/mirror.example';

describeReadmeExamples(join(__dirname, '..'), ['examples/mirror.example.ts']);

describe('README example: mirror', () => {
  const servers = useEchoPair();
  let proxy: Awaited<ReturnType<typeof startMirrorExample>>;
  let client: EchoServiceClient;
  let copies: MirrorReport[];
  let copied: Promise<void>;

  beforeEach(async () => {
    copies = [];
    let heard!: () => void;
    copied = new Promise((resolve) => (heard = resolve));
    const onCopy = (report: MirrorReport): void => {
      copies.push(report);
      heard();
    };
    proxy = await startMirrorExample(servers.a.address, servers.b.address, 100, onCopy);
    client = createEchoClient(proxy.address);
  });

  afterEach(async () => {
    client.close();
    await proxy.close();
  });

  it('answers from the primary and sends the shadow a marked copy', async () => {
    const requests = ['x', 'y'].map((p) => echoRequest({ payload: Buffer.from(p) }));
    const outcome = await callBidi(client, requests);
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses.map((r) => r.serverName)).toEqual(['a', 'a']);
    await copied;
    const bidi = `/${ECHO_SERVICE_NAME}/Bidi`;
    expect(copies).toEqual([
      { method: bidi, backend: 'shadow', outcome: 'completed', code: status.OK, details: 'OK' },
    ]);
    const [copy] = servers.b.calls;
    expect(copy.metadata.get('x-grpc-proxy-mirror')).toEqual(['1']);
    expect(copy.requests.map((r) => r.payload.toString())).toEqual(['x', 'y']);
  });
});
