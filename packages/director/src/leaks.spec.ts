import { createBackend, healthChecked, roundRobin } from './index';
import type { HealthServer } from './test-support/health-server';
import { startHealthServer } from './test-support/health-server';
import { pickedName, proxyCall } from './test-support/calls';

/** Counts of `process.getActiveResourcesInfo()` by kind (sockets, timers, handles...). */
function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

/**
 * Sockets close a few event-loop turns after `close()` (grpc-js closes its sessions
 * asynchronously); wait for the condition, bounded in time, then compare exactly.
 */
async function settleTo(expected: Record<string, number>, timeoutMs = 10_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until && JSON.stringify(activeResources()) !== JSON.stringify(expected)) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return activeResources();
}

describe('resources', () => {
  let server: HealthServer;

  beforeEach(async () => {
    server = await startHealthServer();
  });
  afterEach(() => server.stop());

  it('100 backends and health-checked sets leave no socket, stream or timer behind', async () => {
    const baseline = activeResources();
    const sets = Array.from({ length: 100 }, (_, index) => {
      // A distinct option gives every backend its own connection (no shared subchannel).
      const backends = [0, 1].map((member) =>
        createBackend(server.address, {
          name: `b${index}-${member}`,
          channelOptions: { 'test.leak-index': index * 2 + member },
        }),
      );
      return healthChecked(backends, { backoff: { initialMs: 5, maxMs: 20 } });
    });
    await Promise.all(sets.map((set) => set.ready()));
    expect(sets.every((set) => set.servingBackends().length === 2)).toBe(true);
    expect(activeResources()['TCPSocketWrap']).toBeGreaterThanOrEqual(200);

    const director = roundRobin(sets);
    expect(await pickedName(director(proxyCall('/acme.v1.Echo/Unary')))).toBe('b0-0');
    director.close();

    expect(await settleTo(baseline)).toEqual(baseline);
  });
});
