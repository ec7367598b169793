import { Metadata, status } from '@grpc/grpc-js';
import { callRawBidi } from '@grpc-proxy/testing';
import type { CallReport, CallStartInfo } from './contracts';
import { eventually } from './test-support/grpc-fixtures';
import { useHarness } from './test-support/harness';
import { ECHO } from './test-support/test-backend';

describe('the per-call observer', () => {
  const events: string[] = [];
  const starts: CallStartInfo[] = [];
  const ends: CallReport[] = [];
  const h = useHarness({
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
  });

  beforeEach(() => {
    events.length = starts.length = ends.length = 0;
    h.director = () => {
      events.push('director');
      return { backend: h.backendClient, release: () => events.push('release') };
    };
  });

  it('hears the start before the director and one end with counts, sizes, backend and status', async () => {
    const requests = [Buffer.alloc(10), Buffer.alloc(0), Buffer.alloc(300)];
    const outcome = await callRawBidi(h.client, `${ECHO}/Bidi`, requests);
    expect(outcome.status.code).toBe(status.OK);
    await eventually(() => ends.length === 1, 'observer end');
    expect(events).toEqual(['start', 'director', 'release', 'end']);
    expect(starts[0].method).toBe(`${ECHO}/Bidi`);
    expect(starts[0].peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(ends[0]).toEqual({
      method: `${ECHO}/Bidi`,
      peer: starts[0].peer,
      startTime: starts[0].startTime,
      backend: `dns:${h.backend.target}`,
      code: status.OK,
      details: 'OK',
      proxyError: false,
      durationMs: expect.any(Number),
      messagesFromClient: 3,
      messagesToClient: 3,
      bytesFromClient: 310,
      bytesToClient: 310,
      retries: 0,
    });
    expect(ends[0].durationMs).toBeGreaterThanOrEqual(0);
  });

  it('reports a backend error status with proxyError false', async () => {
    const md = new Metadata();
    md.set('x-fail-code', String(status.ABORTED));
    await callRawBidi(h.client, `${ECHO}/ServerStream`, [Buffer.from('x')], { metadata: md });
    await eventually(() => ends.length === 1, 'observer end');
    expect(ends[0]).toMatchObject({ code: status.ABORTED, proxyError: false, messagesToClient: 3 });
  });
});
