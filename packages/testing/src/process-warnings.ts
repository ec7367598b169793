import { testGlobals } from './jest-globals';

/**
 * Collects the process warnings (`process.emitWarning`) of each test instead of printing them:
 * call it in a `describe` body; the array it returns holds the current test's warnings, as
 * strings (an `Error` warning as its message), emptied before each test. `process.emitWarning`
 * is restored after each test.
 */
export function useProcessWarnings(): string[] {
  const { beforeEach, afterEach } = testGlobals(
    'useProcessWarnings',
    ['beforeEach', 'afterEach'],
    'call it in a describe body or at the top level of a test file',
  );
  const warnings: string[] = [];
  let original: typeof process.emitWarning | undefined;
  beforeEach(() => {
    warnings.length = 0;
    original = process.emitWarning;
    process.emitWarning = ((warning: string | Error) => {
      warnings.push(typeof warning === 'string' ? warning : warning.message);
    }) as typeof process.emitWarning;
  });
  afterEach(() => {
    if (original) process.emitWarning = original;
    original = undefined;
  });
  return warnings;
}
