/** What the `describe*Conformance` adapters share: picking cases by name and declaring them. */
import type { ConformanceOptions } from './types';

/** A case the adapters declare: a name, a time budget and a body run in an environment. */
export interface NamedCase<Environment> {
  readonly name: string;
  readonly timeoutMs: number;
  run(environment: Environment, options?: ConformanceOptions): Promise<void>;
}

/** Which cases to run: only these (default: all), minus these (default: none). */
export interface CaseSelection {
  readonly only?: readonly string[];
  readonly skip?: readonly string[];
}

/**
 * The cases of `all` that `selection` picks, in `all`'s order; throws on names not in `all`
 * (saying `unknown <kind> case ...; known: ...`) so typos do not skip silently.
 */
export function selectNamedCases<Case extends { readonly name: string }>(
  kind: string,
  all: readonly Case[],
  selection: CaseSelection,
): Case[] {
  const only = new Set(selection.only ?? all.map((c) => c.name));
  const skip = new Set(selection.skip ?? []);
  const unknown = [...only, ...skip].filter((name) => !all.some((c) => c.name === name));
  if (unknown.length > 0) {
    const known = all.map((c) => c.name).join(', ');
    throw new Error(
      `unknown ${kind} case ${unknown.map((n) => `"${n}"`).join(', ')}; known: ${known}`,
    );
  }
  return all.filter((c) => only.has(c.name) && !skip.has(c.name));
}

/** Calls `value.close()` when `value` has one (route backends that own a connection). */
export function closeIfCloseable(value: unknown): void {
  const close = (value as { close?: unknown } | null)?.close;
  if (typeof close === 'function') close.call(value);
}

type It = (name: string, body: () => Promise<void>, timeoutMs?: number) => void;

/**
 * Declares one jest test per case of `all`: `selected` ones run in the environment `environment()`
 * gives (failing when setup did not make one), the others are declared skipped.
 */
export function declareNamedCases<Environment>(
  it: It,
  all: readonly NamedCase<Environment>[],
  selected: readonly NamedCase<Environment>[],
  environment: () => Environment | undefined,
  options: ConformanceOptions,
): void {
  const skipIt = (caseName: string): void =>
    (it as { skip?: (name: string, body: () => void) => void }).skip?.(caseName, () => undefined);
  for (const namedCase of all) {
    if (!selected.includes(namedCase)) {
      skipIt(namedCase.name);
      continue;
    }
    it(
      namedCase.name,
      async () => {
        const current = environment();
        if (current === undefined) {
          throw new Error('the servers or the proxy did not start (see beforeAll)');
        }
        await namedCase.run(current, options);
      },
      namedCase.timeoutMs,
    );
  }
}
