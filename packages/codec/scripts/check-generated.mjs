// Fails when src/test-support/gen differs from what `npm run generate` produces from proto/ now.
// Run through `npm run check-generated`, so that npm puts `buf` and `protoc-gen-ts_proto` on PATH.
// `npm run generate` formats the output with prettier, so the fresh output is formatted the same
// way (with the config that applies to the committed files) before comparing.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const generatedPath = 'src/test-support/gen';
const committedDir = join(packageDir, generatedPath);

/** Every file under `dir`, as paths relative to it, sorted. */
function listFiles(dir) {
  if (!existsSync(dir)) return [];
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

async function formatted(freshFile, committedFile) {
  const options = (await prettier.resolveConfig(committedFile)) ?? {};
  return prettier.format(readFileSync(freshFile, 'utf8'), { ...options, filepath: committedFile });
}

async function differences(freshDir) {
  const fresh = listFiles(freshDir);
  const committed = listFiles(committedDir);
  const problems = [];
  for (const file of fresh) {
    const committedFile = join(committedDir, file);
    if (!committed.includes(file)) problems.push(`missing: ${generatedPath}/${file}`);
    else if (
      (await formatted(join(freshDir, file), committedFile)) !== readFileSync(committedFile, 'utf8')
    )
      problems.push(`differs: ${generatedPath}/${file}`);
  }
  for (const file of committed) {
    if (!fresh.includes(file)) problems.push(`not generated any more: ${generatedPath}/${file}`);
  }
  return problems;
}

const outputBase = mkdtempSync(join(tmpdir(), 'grpc-proxy-codec-gen-'));
try {
  execFileSync('buf', ['generate', '--output', outputBase], { cwd: packageDir, stdio: 'inherit' });
  const problems = await differences(join(outputBase, generatedPath));
  if (problems.length > 0) {
    console.error('Generated code is out of date with proto/:');
    for (const problem of problems) console.error(`  ${problem}`);
    console.error('Run `npm run generate` in packages/codec and commit src/test-support/gen.');
    process.exitCode = 1;
  } else {
    console.log(`${generatedPath} matches proto/.`);
  }
} finally {
  rmSync(outputBase, { recursive: true, force: true });
}
