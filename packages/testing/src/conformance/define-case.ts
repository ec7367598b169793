import { withCaseContext } from './context';
import type { CaseContext } from './context';
import type { ConformanceCase } from './types';

/** Default time budget of a case. */
const CASE_TIMEOUT_MS = 30_000;

/** Builds a {@link ConformanceCase} whose body gets a fresh client of the proxy. */
export function defineCase(
  name: string,
  description: string,
  body: (context: CaseContext) => Promise<void>,
  timeoutMs = CASE_TIMEOUT_MS,
): ConformanceCase {
  return {
    name,
    description,
    timeoutMs,
    run: (proxyAddress, backend, options) =>
      withCaseContext(proxyAddress, backend, options, async (context) => {
        try {
          await body(context);
        } catch (error) {
          if (error instanceof Error) error.message = `${name}: ${error.message}`;
          throw error;
        }
      }),
  };
}
