/** The jest (or jest-compatible) globals the kit's test adapters declare tests with. */
export interface TestGlobals {
  describe(name: string, body: () => void): void;
  it(name: string, body: () => Promise<void> | void, timeoutMs?: number): void;
  beforeAll(body: () => Promise<void>, timeoutMs?: number): void;
  afterAll(body: () => Promise<void>, timeoutMs?: number): void;
  beforeEach(body: () => Promise<void> | void, timeoutMs?: number): void;
  afterEach(body: () => Promise<void> | void, timeoutMs?: number): void;
}

/**
 * The test globals `caller` needs, read from `globalThis` so that the kit does not depend on jest
 * (a runner with the same globals works too); throws naming what is missing otherwise.
 */
export function testGlobals<K extends keyof TestGlobals>(
  caller: string,
  needed: readonly K[],
  otherwise: string,
): Pick<TestGlobals, K> {
  const globals = globalThis as Partial<TestGlobals>;
  const missing = needed.filter((name) => typeof globals[name] !== 'function');
  if (missing.length > 0) {
    const list = `${needed.slice(0, -1).join(', ')} and ${needed[needed.length - 1]}`;
    throw new Error(`${caller} needs the jest globals ${list}: ${otherwise}`);
  }
  return globals as Pick<TestGlobals, K>;
}
