/** One thing wrong with a config: where (a field path such as `backends[0].targets`) and what. */
export interface ConfigIssue {
  /** Field path in the config, `(root)` for the whole document. */
  readonly path: string;
  /** What is wrong, in words. */
  readonly message: string;
}

/**
 * A config that cannot be used. `message` is `invalid config <source>:` followed by one
 * `  <path>: <message>` line per issue.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** Every issue found (all of them, not just the first). */
  readonly issues: readonly ConfigIssue[];
  /** The file the config came from, or `(command-line flags)`. */
  readonly source: string;

  constructor(source: string, issues: readonly ConfigIssue[]) {
    super(
      `invalid config ${source}:\n` +
        issues.map((issue) => `  ${issue.path}: ${issue.message}`).join('\n'),
    );
    this.source = source;
    this.issues = issues;
  }
}
