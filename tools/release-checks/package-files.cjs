// Checks over one installed package directory: what its manifest names exists, its source maps
// resolve to files it ships, and it ships no tests.
const { existsSync, readdirSync, readFileSync } = require('node:fs');
const { dirname, join, relative, resolve } = require('node:path');

/** Every file path a manifest points at: `main`, `types`, `bin` and each leaf of `exports`. */
function manifestTargets(manifest) {
  const targets = [manifest.main, manifest.types];
  const bins =
    typeof manifest.bin === 'string' ? [manifest.bin] : Object.values(manifest.bin ?? {});
  const walk = (value) => {
    if (typeof value === 'string') targets.push(value);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(manifest.exports);
  return [...targets, ...bins].filter(Boolean);
}

/** The subpaths a user imports: `exports` keys other than `./package.json`. */
function exportedSubpaths(manifest) {
  return Object.keys(manifest.exports ?? { '.': null }).filter((key) => key !== './package.json');
}

function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name));
}

/**
 * Problems of one installed package, as sentences naming the file.
 * @param {string} packageDir - e.g. `<project>/node_modules/@grpc-proxy/codec`
 * @param {string[]} shipped - the tarball's file paths, relative to the package
 */
function packageProblems(packageDir, shipped) {
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
  const problems = [];
  const where = (file) => relative(packageDir, file);

  for (const target of manifestTargets(manifest))
    if (!existsSync(join(packageDir, target)))
      problems.push(`package.json names ${target}, which the tarball does not ship`);
  for (const required of ['LICENSE', 'README.md'])
    if (!shipped.includes(required)) problems.push(`the tarball has no ${required}`);
  for (const path of shipped.filter((p) => /\.spec\.|test-support|\.tsbuildinfo$/.test(p)))
    problems.push(`the tarball ships a test file: ${path}`);
  if (!manifest.scripts?.prepack?.includes('tsc --build'))
    problems.push('no prepack script building the package, so a pack ships whatever dist/ holds');

  for (const file of filesUnder(join(packageDir, 'dist'))) {
    if (file.endsWith('.map')) {
      const map = JSON.parse(readFileSync(file, 'utf8'));
      for (const source of map.sources ?? []) {
        const sourceFile = resolve(dirname(file), map.sourceRoot ?? '', source);
        if (!existsSync(sourceFile))
          problems.push(`${where(file)} maps to ${source}, which the tarball does not ship`);
      }
    } else if (/\.(js|d\.ts)$/.test(file)) {
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(file, 'utf8'))?.[1];
      if (url && !url.startsWith('data:') && !existsSync(resolve(dirname(file), url)))
        problems.push(`${where(file)} names the map ${url}, which the tarball does not ship`);
    }
  }
  return problems;
}

module.exports = { exportedSubpaths, packageProblems };
