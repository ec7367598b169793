import { isDeepStrictEqual, inspect } from 'node:util';
import { status as Status } from '@grpc/grpc-js';
import type { StatusObject } from '@grpc/grpc-js';

/** A conformance case found the proxy doing something other than what the backend did. */
export class ConformanceError extends Error {
  override readonly name = 'ConformanceError';
}

/** Throws a {@link ConformanceError} saying `what` was wrong. */
export function fail(what: string): never {
  throw new ConformanceError(what);
}

/** Renders a value for a message: short, one line, buffers as hex. */
export function show(value: unknown): string {
  return inspect(normalise(value), {
    depth: 6,
    breakLength: Infinity,
    maxArrayLength: 20,
    maxStringLength: 200,
  });
}

function normalise(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return `<bytes ${value.toString('hex')}>`;
  if (Array.isArray(value)) return value.map(normalise);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, normalise(item)]));
  }
  return value;
}

/** Throws unless `actual` deeply equals `expected`, naming `what`. */
export function expectEqual<T>(what: string, actual: T, expected: T): void {
  if (!isDeepStrictEqual(actual, expected)) {
    fail(`${what}: expected ${show(expected)}, got ${show(actual)}`);
  }
}

/** Throws unless the bytes are equal; says the lengths and the first differing offset. */
export function expectBytes(what: string, actual: Buffer, expected: Buffer): void {
  if (actual.equals(expected)) return;
  let offset = 0;
  while (offset < Math.min(actual.length, expected.length) && actual[offset] === expected[offset]) {
    offset++;
  }
  fail(
    `${what}: expected ${expected.length} bytes, got ${actual.length} bytes ` +
      `(first difference at offset ${offset})`,
  );
}

/** The name of a status code, e.g. `NOT_FOUND (5)`. */
export function statusCodeLabel(code: number): string {
  return `${Status[code] ?? 'UNKNOWN_CODE'} (${code})`;
}

/** Throws unless the status has `code` and, when given, exactly `details`. */
export function expectStatus(
  what: string,
  status: StatusObject,
  code: number,
  details?: string,
): void {
  if (status.code !== code) {
    fail(
      `${what}: expected status ${statusCodeLabel(code)}, got ${statusCodeLabel(status.code)} "${status.details}"`,
    );
  }
  if (details !== undefined && status.details !== details) {
    fail(`${what}: expected status message ${show(details)}, got ${show(status.details)}`);
  }
}

/** Resolves or rejects with `promise`, or rejects with a message naming `what` after `ms`. */
export async function within<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ConformanceError(`${what} did not happen within ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
