import { backoffDelay } from './backoff';

describe('backoffDelay', () => {
  it('grows by the multiplier up to the maximum, without jitter', () => {
    const options = { initialMs: 100, maxMs: 1000, multiplier: 2, jitter: 0 };
    expect([0, 1, 2, 3, 4, 10].map((attempt) => backoffDelay(attempt, options))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });

  it('defaults to 1 s growing by 1.6 to 30 s, spread by at most ±20%', () => {
    for (let sample = 0; sample < 200; sample++) {
      const first = backoffDelay(0);
      expect(first).toBeGreaterThanOrEqual(800);
      expect(first).toBeLessThanOrEqual(1200);
      const late = backoffDelay(50);
      expect(late).toBeGreaterThanOrEqual(24_000);
      expect(late).toBeLessThanOrEqual(36_000);
    }
    expect(backoffDelay(1, { jitter: 0 })).toBe(1600);
  });
});
