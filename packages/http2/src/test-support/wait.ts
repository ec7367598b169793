import type { EventEmitter } from 'node:events';

/**
 * Resolves once `predicate` holds, checked now and on each `event` of `emitter`; rejects naming
 * `what` after `timeoutMs` (a bound, not a pace).
 */
export function waitFor(
  emitter: EventEmitter,
  event: string,
  predicate: () => boolean,
  what: () => string,
  timeoutMs = 5_000,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (!predicate()) return;
      clearTimeout(timer);
      emitter.off(event, check);
      resolve();
    };
    const timer = setTimeout(() => {
      emitter.off(event, check);
      reject(new Error(`not within ${timeoutMs} ms: ${what()}`));
    }, timeoutMs);
    emitter.on(event, check);
    check();
  });
}
