import { withCaseContext } from './context';
import type { CaseContext } from './context';
import type { ConformanceCase, ConformanceOptions } from './types';

/** Default time budget of a case. */
const CASE_TIMEOUT_MS = 30_000;

/** How a case is run, besides its body. */
export interface CaseSettings {
  /** The time budget with default options. Default: 30000 ms. */
  timeoutMs?: number;
  /** The time budget with given options, when an option changes it. Default: `timeoutMs`. */
  timeoutFor?: (options: ConformanceOptions) => number;
  /** Whether the case is slow (skipped unless asked for). Default: false. */
  slow?: boolean;
}

/** Builds a {@link ConformanceCase} whose body gets a fresh client of the proxy. */
export function defineCase(
  name: string,
  description: string,
  body: (context: CaseContext) => Promise<void>,
  settings: CaseSettings = {},
): ConformanceCase {
  const timeoutMs = settings.timeoutMs ?? CASE_TIMEOUT_MS;
  return {
    name,
    description,
    timeoutMs,
    slow: settings.slow ?? false,
    timeoutFor: (options = {}) => settings.timeoutFor?.(options) ?? timeoutMs,
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
