/**
 * HTTP/2 abuse on connections (issue 18): CONTINUATION, PING and SETTINGS floods, a 1 MiB header
 * block, 2 000 idle connections. Same checks as abuse-streams.spec.ts: proxy alive, no healthy
 * call lost, healthy p99 within a bound, backend calls, RSS growth, the attacker closed.
 */
import {
  continuationFlood,
  controlFlood,
  headerBomb,
  idleConnections,
} from './support/abuse-attacks';
import {
  RSS_GROWTH_BOUND,
  closedText,
  describeAbuse,
  isPeer,
  runAttack,
} from './support/abuse-healthy';

describeAbuse('HTTP/2 abuse on connections', (target) => {
  // The floods first: the 2 000 connections' memory, freed as they close, blurs RSS figures.
  it.each([
    [
      'CONTINUATION flood (a header block that never ends)',
      () => continuationFlood(target.proxy.address, 1000),
    ],
    ['PING flood, the ACKs never read', () => controlFlood(target.proxy.address, 'PING', 1000)],
    [
      'SETTINGS flood, the ACKs never read',
      () => controlFlood(target.proxy.address, 'SETTINGS', 1000),
    ],
    ['1 MiB header block', () => headerBomb(target.proxy.address, 1024 * 1024)],
  ])(
    '%s: the connection is closed within 1 s, nothing reaches the backend',
    async (name, attack) => {
      const { outcome, cost } = await runAttack(
        target,
        1000,
        attack,
        (seen) => `${name}: ${seen.sent} frames, ${closedText(seen)}`,
      );
      if (isPeer(target)) return;
      expect(outcome.closedAfterMs).toBeLessThan(1000);
      expect(cost.backendCalls).toBe(0);
      // A flood closed within milliseconds shows only as the healthy load's noise.
      expect(cost.rssGrowth).toBeLessThan(RSS_GROWTH_BOUND);
    },
  );

  it('2 000 idle connections: all closed once idle for 1 s (idleTimeoutMs), memory per connection bounded', async () => {
    const rssBefore = target.proxy.kernelMemory().rss;
    let perConnection = 0;
    const { outcome, cost } = await runAttack(
      target,
      1500,
      () =>
        idleConnections(target.proxy.address, 2000, 3000, () => {
          perConnection = (target.proxy.kernelMemory().rss - rssBefore) / 2000;
        }),
      (seen) =>
        `2 000 idle connections: ${seen.closed} closed by the proxy, ` +
        `${(perConnection / 1024).toFixed(1)} KiB RSS each while open`,
    );
    // A peer proxy is measured for comparison, not held to the command's bounds.
    if (isPeer(target)) return;
    expect(outcome).toEqual({ opened: 2000, closed: 2000 });
    expect(cost.backendCalls).toBe(0);
    expect(perConnection).toBeLessThan(32 * 1024);
  });
});
