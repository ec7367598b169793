// Fails when proto/ breaks buf lint, or when src/gen differs from what `buf generate` produces
// from proto/ right now.
// Run through `npm run check-generated` so that npm puts `buf` and `protoc-gen-ts_proto` on PATH.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const committedDir = join(packageDir, 'src/gen');

/** Every file under `dir`, as paths relative to it, sorted. */
function listFiles(dir) {
  const found = [];
  const walk = (current) => {
    for (const name of readdirSync(current)) {
      const path = join(current, name);
      if (statSync(path).isDirectory()) walk(path);
      else found.push(relative(dir, path));
    }
  };
  walk(dir);
  return found.sort();
}

function differences(expectedDir, actualDir) {
  const expected = listFiles(expectedDir);
  const actual = listFiles(actualDir);
  const problems = [];
  for (const file of expected) {
    if (!actual.includes(file)) problems.push(`missing from src/gen: ${file}`);
    else if (!readFileSync(join(expectedDir, file)).equals(readFileSync(join(actualDir, file))))
      problems.push(`differs: src/gen/${file}`);
  }
  for (const file of actual) {
    if (!expected.includes(file)) problems.push(`not generated any more: src/gen/${file}`);
  }
  return problems;
}

const outputBase = mkdtempSync(join(tmpdir(), 'grpc-proxy-testing-gen-'));
try {
  execFileSync('buf', ['lint'], { cwd: packageDir, stdio: 'inherit' });
  execFileSync('buf', ['generate', '--output', outputBase], { cwd: packageDir, stdio: 'inherit' });
  const problems = differences(join(outputBase, 'src/gen'), committedDir);
  if (problems.length > 0) {
    console.error('Generated code is out of date with proto/:');
    for (const problem of problems) console.error(`  ${problem}`);
    console.error('Run `npm run generate` in packages/testing and commit src/gen.');
    process.exit(1);
  }
  console.log('src/gen matches proto/.');
} finally {
  rmSync(outputBase, { recursive: true, force: true });
}
