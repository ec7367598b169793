import { Metadata, status, type Client } from '@grpc/grpc-js';
import { createBackendClient } from './backend-client';
import type { CallReport, CallStartInfo } from './contracts';
import { bidiCall, eventually, rawClient, type RunningServer } from './test-support/grpc-fixtures';
import { startProxy } from './test-support/proxy-fixture';
import { ECHO, startTestBackend, type TestBackend } from './test-support/test-backend';

describe('the per-call observer', () => {
  let backend: TestBackend;
  let backendClient: Client;
  let proxy: RunningServer;
  let client: Client;
  const events: string[] = [];
  const starts: CallStartInfo[] = [];
  const ends: CallReport[] = [];

  beforeEach(async () => {
    events.length = starts.length = ends.length = 0;
    backend = await startTestBackend();
    backendClient = createBackendClient(backend.target);
    proxy = await startProxy(
      () => {
        events.push('director');
        return { backend: backendClient, release: () => events.push('release') };
      },
      {
        observer: {
          onCallStart: (info) => {
            events.push('start');
            starts.push(info);
          },
          onCallEnd: (report) => {
            events.push('end');
            ends.push(report);
          },
        },
      },
    );
    client = rawClient(proxy.target);
  });

  afterEach(async () => {
    client.close();
    backendClient.close();
    await proxy.close();
    await backend.close();
  });

  it('hears the start before the director and one end with counts, sizes, backend and status', async () => {
    const requests = [Buffer.alloc(10), Buffer.alloc(0), Buffer.alloc(300)];
    const outcome = await bidiCall(client, `${ECHO}/Bidi`, requests);
    expect(outcome.status.code).toBe(status.OK);
    await eventually(() => ends.length === 1, 'observer end');
    expect(events).toEqual(['start', 'director', 'release', 'end']);
    expect(starts[0].method).toBe(`${ECHO}/Bidi`);
    expect(starts[0].peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(ends[0]).toEqual({
      method: `${ECHO}/Bidi`,
      peer: starts[0].peer,
      startTime: starts[0].startTime,
      backend: `dns:${backend.target}`,
      code: status.OK,
      details: 'OK',
      proxyError: false,
      durationMs: expect.any(Number),
      messagesFromClient: 3,
      messagesToClient: 3,
      bytesFromClient: 310,
      bytesToClient: 310,
    });
    expect(ends[0].durationMs).toBeGreaterThanOrEqual(0);
  });

  it('reports a backend error status with proxyError false', async () => {
    const md = new Metadata();
    md.set('x-fail-code', String(status.ABORTED));
    await bidiCall(client, `${ECHO}/ServerStream`, [Buffer.from('x')], md);
    await eventually(() => ends.length === 1, 'observer end');
    expect(ends[0]).toMatchObject({ code: status.ABORTED, proxyError: false, messagesToClient: 3 });
  });
});
