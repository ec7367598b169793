import { status } from '@grpc/grpc-js';
import { createBackendClient } from './backend-client';
import { eventually } from './test-support/grpc-fixtures';
import { startMirrorBackend } from './test-support/mirror-backend';
import { MIRROR_KINDS, useMirrorScene } from './test-support/mirror-scene';
import { activeResources, grown } from './test-support/resources';

describe('mirror leaks', () => {
  const h = useMirrorScene({ mirrorTimeoutMs: 1000 });

  async function run(count: number): Promise<void> {
    const outcomes = await Promise.all(
      Array.from({ length: count }, (_, i) => MIRROR_KINDS[i % 4][2](h.client, {})),
    );
    expect(outcomes.filter((outcome) => outcome.status.code === status.OK)).toHaveLength(count);
  }

  it('leaves no handles or timers behind after 200 calls copied to an answering and a hanging mirror', async () => {
    const hanging = await startMirrorBackend('hang');
    const hangingClient = createBackendClient(hanging.target);
    try {
      h.director = () =>
        h.route({ mirror: [{ backend: h.mirrorClient }, { backend: hangingClient }] });
      await run(20); // warm-up: connections and grpc-js's long-lived timers exist from here on
      await eventually(() => h.mirrorReports.length === 40, 'warm-up copies reported');
      const before = activeResources();

      await run(200);

      await eventually(() => h.mirrorReports.length === 440, 'every copy reported once');
      const outcomes: Record<string, number> = {};
      for (const report of h.mirrorReports) {
        const key = `${report.backend === `dns:${hanging.target}` ? 'hanging' : 'answering'} ${report.outcome} ${report.code}`;
        outcomes[key] = (outcomes[key] ?? 0) + 1;
      }
      expect(outcomes).toEqual({
        [`answering completed ${status.OK}`]: 220,
        [`hanging dropped ${status.CANCELLED}`]: 220,
      });
      await eventually(
        () => hanging.calls.every((call) => call.cancelled),
        'every hanging copy cancelled at its mirror',
      );
      expect(h.mirror.calls.filter((call) => call.halfClosed)).toHaveLength(220);
      await eventually(
        () => Object.keys(grown(before)).length === 0,
        'resources back to baseline',
      ).catch(() => undefined);
      expect(grown(before)).toEqual({});
    } finally {
      hangingClient.close();
      await hanging.close();
    }
  });
});
