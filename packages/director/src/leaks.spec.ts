import { createBackend, healthChecked, roundRobin } from './index';
import { unusedAddress } from './test-support/addresses';
import type { HealthServer } from './test-support/health-server';
import { startHealthServer } from './test-support/health-server';
import { pickedName, proxyCall } from './test-support/calls';
import { HealthLog } from './test-support/health-log';

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

/**
 * The baseline once handles that were closing (a listener closed in setup, a finished test's
 * timers) are gone: three equal samples in a row, bounded in time.
 */
async function steadyResources(timeoutMs = 5_000): Promise<Record<string, number>> {
  const until = Date.now() + timeoutMs;
  let last = JSON.stringify(activeResources());
  let equalSamples = 1;
  while (equalSamples < 3 && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const now = JSON.stringify(activeResources());
    equalSamples = now === last ? equalSamples + 1 : 1;
    last = now;
  }
  return activeResources();
}

describe('resources', () => {
  // Started once: a server stopping between tests would still be closing during the next
  // test's baseline.
  let server: HealthServer;
  let polled: HealthServer;
  let deadAddress: string;

  beforeAll(async () => {
    server = await startHealthServer();
    polled = await startHealthServer({ '': 'SERVING' }, 'check-only');
    deadAddress = await unusedAddress();
  });
  afterAll(async () => {
    await server.stop();
    await polled.stop();
  });

  it('100 backends and health-checked sets leave no socket, stream or timer behind', async () => {
    const baseline = await steadyResources();
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

  it('sets that poll Check or wait to retry leave no timer or call behind', async () => {
    const baseline = await steadyResources();
    const sets = Array.from({ length: 50 }, (_, index) =>
      healthChecked(
        [
          createBackend(polled.address, { name: `polled-${index}` }),
          createBackend(deadAddress, { name: `dead-${index}` }),
        ],
        { pollIntervalMs: 5, backoff: { initialMs: 5, maxMs: 20 } },
      ),
    );
    await Promise.all(sets.map((set) => set.ready()));
    expect(sets.map((set) => set.statusOf(set.backends[0]))).toEqual(Array(50).fill('SERVING'));
    expect(sets.map((set) => set.statusOf(set.backends[1]))).toEqual(Array(50).fill('UNREACHABLE'));
    for (const set of sets) set.close();
    expect(await settleTo(baseline)).toEqual(baseline);
  });

  it('backends out of rotation and probing leave no call or timer behind', async () => {
    const baseline = await steadyResources();
    const logs = Array.from({ length: 50 }, () => new HealthLog());
    const backends = logs.map((log, index) =>
      createBackend(deadAddress, {
        name: `down-${index}`,
        channelOptions: { 'test.leak-index': index },
        onHealthChange: log.listener,
      }),
    );
    // Connecting is enough: the channel's watch sees the refusal and reads its error.
    for (const backend of backends) backend.client().getChannel().getConnectivityState(true);
    await Promise.all(logs.map((log) => log.change(1)));
    expect(backends.filter((backend) => backend.isAvailable())).toEqual([]);
    for (const backend of backends) backend.close();
    expect(await settleTo(baseline)).toEqual(baseline);
    expect(logs.map((log) => log.changes.length)).toEqual(Array(50).fill(1));
  });
});
