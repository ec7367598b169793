/** 251 is prime, so a pattern shifted or truncated by any whole number of bytes shows. */
const PATTERN = Buffer.from(Array.from({ length: 251 }, (_, i) => i));

/**
 * A payload of `size` bytes where byte `i` is `i % 251`: cheap to build and to check, and any
 * shifted, truncated or reordered chunk differs from it.
 */
export function patternPayload(size: number): Buffer {
  return Buffer.alloc(size, PATTERN);
}
