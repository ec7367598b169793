// Fails when a package's committed generated code differs from what `buf generate` produces from
// its proto/ right now. Run from the package directory through its `npm run check-generated`,
// so that npm puts `buf` and `protoc-gen-ts_proto` on PATH.
//
// Usage: node ../../tools/scripts/check-generated.mjs [--lint] [--prettier]
//   --lint      run `buf lint` first (fails on lint findings)
//   --prettier  format the fresh output with prettier (the config that applies to the committed
//               files) before comparing, for packages whose `npm run generate` formats it
// The generated directories are the `out:` entries of the package's buf.gen.yaml.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, URL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: options } = parseArgs({
  options: { lint: { type: 'boolean' }, prettier: { type: 'boolean' } },
});
const packageDir = process.cwd();
const outputs = [
  ...readFileSync(join(packageDir, 'buf.gen.yaml'), 'utf8').matchAll(/^\s*out:\s*(\S+)\s*$/gm),
].map((match) => match[1]);
if (outputs.length === 0) throw new Error(`no "out:" entry in ${packageDir}/buf.gen.yaml`);
const prettier = options.prettier ? await import('prettier') : undefined;

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

/** The fresh file as `npm run generate` would leave it in place of `committedFile`. */
async function generated(freshFile, committedFile) {
  const text = readFileSync(freshFile, 'utf8');
  if (!prettier) return text;
  const config = (await prettier.resolveConfig(committedFile)) ?? {};
  return prettier.format(text, { ...config, filepath: committedFile });
}

async function differences(outputBase, out) {
  const freshDir = join(outputBase, out);
  const committedDir = join(packageDir, out);
  const fresh = listFiles(freshDir);
  const committed = listFiles(committedDir);
  const problems = [];
  for (const file of fresh) {
    const committedFile = join(committedDir, file);
    if (!committed.includes(file)) problems.push(`missing: ${out}/${file}`);
    else if (
      (await generated(join(freshDir, file), committedFile)) !== readFileSync(committedFile, 'utf8')
    )
      problems.push(`differs: ${out}/${file}`);
  }
  for (const file of committed) {
    if (!fresh.includes(file)) problems.push(`not generated any more: ${out}/${file}`);
  }
  return problems;
}

if (options.lint) execFileSync('buf', ['lint'], { cwd: packageDir, stdio: 'inherit' });
const outputBase = mkdtempSync(join(tmpdir(), 'grpc-proxy-gen-'));
try {
  execFileSync('buf', ['generate', '--output', outputBase], { cwd: packageDir, stdio: 'inherit' });
  const problems = [];
  for (const out of outputs) problems.push(...(await differences(outputBase, out)));
  if (problems.length > 0) {
    console.error('Generated code is out of date with proto/:');
    for (const problem of problems) console.error(`  ${problem}`);
    const where = relative(fileURLToPath(new URL('../..', import.meta.url)), packageDir);
    console.error(`Run \`npm run generate\` in ${where} and commit ${outputs.join(', ')}.`);
    process.exitCode = 1;
  } else {
    console.log(`${outputs.join(', ')} ${outputs.length === 1 ? 'matches' : 'match'} proto/.`);
  }
} finally {
  rmSync(outputBase, { recursive: true, force: true });
}
