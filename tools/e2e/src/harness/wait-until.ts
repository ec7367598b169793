/**
 * Resolves once `condition()` holds, checking every 10 ms; rejects after `timeoutMs` with
 * `what` in the message. The bounded wait of cases that watch a counter move.
 */
export async function waitUntil(
  condition: () => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const giveUpAt = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > giveUpAt) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
