/** One thing wrong with a config: where (a field path such as `backends[0].targets`) and what. */
export interface ConfigIssue {
  /** Field path in the config, `(root)` for the whole document. */
  readonly path: string;
  /** What is wrong, in words. */
  readonly message: string;
}

/** A config that cannot be used. `message` lists every issue, one per line, as `source: path: message`. */
export class ConfigError extends Error {
  /** Every issue found (all of them, not just the first). */
  readonly issues: readonly ConfigIssue[];
  /** The file (or `--flags`) the config came from. */
  readonly source: string;

  constructor(source: string, issues: readonly ConfigIssue[]) {
    super(
      `invalid config ${source}:\n` +
        issues.map((issue) => `  ${issue.path}: ${issue.message}`).join('\n'),
    );
    this.name = 'ConfigError';
    this.source = source;
    this.issues = issues;
  }
}
