import { join } from 'node:path';
import { status, type Client } from '@grpc/grpc-js';
import { callRawClientStream, describeReadmeExamples } from '@grpc-proxy/testing';
// The README's example is this file, run here.
import { startMirroringProxy } from '../examples/mirror.example';
import { eventually, rawClient } from './test-support/grpc-fixtures';
import { startMirrorBackend, type MirrorBackend } from './test-support/mirror-backend';
import { ECHO, startTestBackend, type TestBackend } from './test-support/test-backend';

describeReadmeExamples(join(__dirname, '..'), ['examples/mirror.example.ts']);

describe('README example: mirroring calls to a shadow backend', () => {
  let backend: TestBackend;
  let shadow: MirrorBackend;
  let proxy: Awaited<ReturnType<typeof startMirroringProxy>>;
  let client: Client;

  beforeEach(async () => {
    backend = await startTestBackend();
    shadow = await startMirrorBackend();
  });

  afterEach(async () => {
    client.close();
    proxy.close();
    await backend.close();
    await shadow.close();
  });

  it('answers from the primary and copies the call, marked x-shadow, to the shadow', async () => {
    proxy = await startMirroringProxy(backend.target, shadow.target);
    client = rawClient(proxy.address);
    const requests = [Buffer.from('a'), Buffer.from('b')];
    const outcome = await callRawClientStream(client, `${ECHO}/ClientStream`, requests);
    expect([outcome.status.code, outcome.responses]).toEqual([status.OK, [Buffer.from('n=2:ab')]]);
    await eventually(() => proxy.copies.length === 1, 'the copy reported');
    expect(proxy.copies).toEqual([
      {
        method: `${ECHO}/ClientStream`,
        backend: `dns:${shadow.target}`,
        outcome: 'completed',
        code: status.OK,
        details: 'OK',
      },
    ]);
    expect(shadow.calls.map((call) => [call.metadata.get('x-shadow'), call.messages])).toEqual([
      [['1'], requests],
    ]);
  });
});
