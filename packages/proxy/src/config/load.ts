import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError, type ConfigIssue } from './config-error';
import { resolveConfig } from './resolve';
import type { ResolvedProxyConfig } from './types';
import { validateConfig } from './validate';

/**
 * Parses config text (YAML 1.2, so JSON too), validates it and applies defaults.
 *
 * @param text - the file's contents
 * @param source - a name for messages (usually the file path)
 * @param baseDir - directory relative TLS paths are resolved against
 * @throws {@link ConfigError} on a syntax error or any schema or cross-field issue
 */
export function parseConfig(text: string, source: string, baseDir: string): ResolvedProxyConfig {
  return resolveConfig(validateConfig(parseConfigDocument(text, source), source), baseDir);
}

/**
 * Parses config text (YAML 1.2, so JSON too) into a plain value, without validating it.
 *
 * @throws {@link ConfigError} on a syntax error, with line and column
 */
function parseConfigDocument(text: string, source: string): unknown {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  if (document.errors.length > 0) {
    throw new ConfigError(
      source,
      document.errors.map((error) => {
        const at = lineCounter.linePos(error.pos[0]);
        return {
          path: `line ${at.line}, column ${at.col}`,
          message: `syntax error: ${error.message.split('\n')[0]}`,
        };
      }),
    );
  }
  return document.toJS() as unknown;
}

type FileKind = 'certificate' | 'key';

/** Every file a resolved config points at, with its field path and what it must hold. */
function referencedFiles(
  config: ResolvedProxyConfig,
): { path: string; file: string; kind: FileKind }[] {
  const files: { path: string; file: string; kind: FileKind }[] = [];
  if (config.tls) {
    files.push(
      { path: 'tls.cert', file: config.tls.cert, kind: 'certificate' },
      { path: 'tls.key', file: config.tls.key, kind: 'key' },
    );
    if (config.tls.clientCa)
      files.push({ path: 'tls.clientCa', file: config.tls.clientCa, kind: 'certificate' });
  }
  config.backends.forEach((backend, index) => {
    const tls = backend.tls;
    const at = `backends[${index}].tls`;
    if (tls?.ca !== undefined) files.push({ path: `${at}.ca`, file: tls.ca, kind: 'certificate' });
    if (tls?.cert !== undefined)
      files.push({ path: `${at}.cert`, file: tls.cert, kind: 'certificate' });
    if (tls?.key !== undefined) files.push({ path: `${at}.key`, file: tls.key, kind: 'key' });
  });
  return files;
}

/** Why `contents` is not a PEM certificate or private key, or `undefined` when it is one. */
function pemProblem(contents: Buffer, kind: FileKind): string | undefined {
  try {
    if (kind === 'certificate') new X509Certificate(contents);
    else createPrivateKey(contents);
    return undefined;
  } catch (error) {
    return `is not a PEM ${kind === 'certificate' ? 'certificate' : 'private key'} (${(error as Error).message})`;
  }
}

/**
 * Checks that every file the config names can be read and holds a PEM certificate or private
 * key as its field says.
 *
 * @throws {@link ConfigError} naming each bad file's field
 */
function checkConfigFiles(config: ResolvedProxyConfig, source: string): void {
  const issues: ConfigIssue[] = [];
  for (const { path: field, file, kind } of referencedFiles(config)) {
    let contents: Buffer;
    try {
      contents = readFileSync(file);
    } catch (error) {
      issues.push({
        path: field,
        message: `cannot read ${file} (${(error as NodeJS.ErrnoException).code})`,
      });
      continue;
    }
    const problem = pemProblem(contents, kind);
    if (problem !== undefined) issues.push({ path: field, message: `${file} ${problem}` });
  }
  if (issues.length > 0) throw new ConfigError(source, issues);
}

/**
 * Reads, parses, validates and resolves a config file (YAML or JSON), and checks that the TLS
 * files it names are readable.
 *
 * @throws {@link ConfigError} for an unreadable file or any issue in it
 */
export function loadConfig(file: string): ResolvedProxyConfig {
  return finishConfig(readConfigDocument(file), file, configBaseDir(file));
}

/** The directory relative paths in `file` are resolved against. */
export function configBaseDir(file: string): string {
  return path.dirname(path.resolve(file));
}

/**
 * Reads and parses a config file without validating it (the command applies its flags to the
 * document before validation, so that a bad flag is reported like a bad field).
 *
 * @throws {@link ConfigError} for an unreadable file or a syntax error
 */
export function readConfigDocument(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [
      {
        path: '(file)',
        message: `cannot read the config file (${(error as NodeJS.ErrnoException).code})`,
      },
    ]);
  }
  return parseConfigDocument(text, file);
}

/**
 * Validates a parsed document, applies defaults, resolves paths against `baseDir` and checks
 * that the files it names are readable.
 *
 * @throws {@link ConfigError} listing every issue
 */
export function finishConfig(
  document: unknown,
  source: string,
  baseDir: string,
): ResolvedProxyConfig {
  const config = resolveConfig(validateConfig(document, source), baseDir);
  checkConfigFiles(config, source);
  return config;
}
