/**
 * Whether `value` is a thenable (a promise, or any object or function with a `then` method), as
 * `await` decides it. Prefer it over `instanceof Promise`, which misses promises from another
 * realm and custom thenables.
 */
export function isThenable<T = unknown>(value: unknown): value is PromiseLike<T> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
