// What both release checks share: the publishable packages and one way to build them.
const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..', '..');

/**
 * The publishable workspace packages (`packages/*` not marked private), in directory order.
 * @returns {{ dir: string, name: string, manifest: Record<string, any> }[]}
 */
function listPackages() {
  const packagesDir = join(ROOT, 'packages');
  return readdirSync(packagesDir)
    .sort()
    .map((entry) => join(packagesDir, entry))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
    .filter(({ manifest }) => !manifest.private)
    .map(({ dir, manifest }) => ({ dir, name: manifest.name, manifest }));
}

/**
 * Runs a command; fails the check (see {@link fail}) when the command fails.
 * @returns {string} its standard output
 */
function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', ...options });
  if (result.status !== 0) {
    const output = [result.stdout, result.stderr].filter(Boolean).join('\n').trim();
    fail(
      `${[command, ...args].join(' ')} failed (${result.error ?? `exit ${result.status}`})\n${output}`,
    );
  }
  return result.stdout;
}

/** Builds every package's library (incremental: nearly free right after `nx run-many -t build`). */
function buildPackages() {
  const tsc = require.resolve('typescript/bin/tsc', { paths: [ROOT] });
  const configs = listPackages().map(({ dir }) => join(dir, 'tsconfig.lib.json'));
  run(process.execPath, [tsc, '--build', ...configs]);
}

/** A check that found a defect: its message is the whole report, no stack needed. */
class CheckFailure extends Error {
  name = 'CheckFailure';
}

/** Ends the check: throws a {@link CheckFailure} that {@link runCheck} reports. */
function fail(message) {
  throw new CheckFailure(message);
}

/**
 * Runs a check's `main` (sync or async). On failure it prints the message (the stack too when
 * the failure is not a {@link CheckFailure}) and sets exit code 1; the process then ends by
 * itself, so `exit` handlers (temporary folders) run.
 */
async function runCheck(main) {
  try {
    await main();
  } catch (error) {
    const report = error instanceof CheckFailure ? error.message : (error?.stack ?? String(error));
    process.stderr.write(`${report}\n`);
    process.exitCode = 1;
  }
}

module.exports = { ROOT, listPackages, run, buildPackages, fail, runCheck };
