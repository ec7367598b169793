// The public surface of every package, one report per package listing each entry point's exports
// with their kind and declaration, read from the built .d.ts files (what a user compiles against).
//   node tools/release-checks/api-report.cjs           compare with the committed reports
//   node tools/release-checks/api-report.cjs --update  rewrite them
// Both build the packages first; --no-build reads dist/ as it is.
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');
const ts = require('typescript');
const prettier = require('prettier');
const { ROOT, buildPackages, fail, listPackages, runCheck } = require('./workspace.cjs');
const { lineDiff } = require('./line-diff.cjs');
const { declarationText, kindOf, owningPackage, referencedSymbols } = require('./declarations.cjs');

const REPORT_FILE = 'api-report.md';
const HEADER = [
  '<!-- Generated from the built .d.ts by `npm run api:update`; `npm run api:check` (part of `npm test`) fails when it differs. -->',
  '',
  'Every name each entry point exports, with its kind and declaration (TSDoc left out).',
  'A change here is a change of the public surface.',
];
const byName = (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** `{ importPath, typesFile }` for each entry point in the manifest's `exports`. */
function entryPoints({ dir, name, manifest }) {
  return Object.entries(manifest.exports ?? { '.': { types: manifest.types } })
    .filter(([subpath, target]) => subpath !== './package.json' && target?.types)
    .map(([subpath, target]) => ({
      importPath: name + subpath.slice(1),
      typesFile: join(dir, target.types),
    }));
}

/** The names an entry point exports, sorted, each with the symbol it stands for and its package. */
function exportsOf(program, { importPath, typesFile }) {
  const checker = program.getTypeChecker();
  const sourceFile = program.getSourceFile(typesFile);
  const moduleSymbol = sourceFile && checker.getSymbolAtLocation(sourceFile);
  if (!moduleSymbol) fail(`${importPath}: ${relative(ROOT, typesFile)} is missing or not a module`);
  return checker
    .getExportsOfModule(moduleSymbol)
    .map((symbol) => {
      const target =
        symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      const declarations = target.declarations ?? [];
      if (!declarations.length)
        fail(`${importPath}: the export ${symbol.name} resolves to nothing`);
      const from = owningPackage(declarations[0].getSourceFile().fileName);
      return { name: symbol.name, target, declarations, from };
    })
    .sort(byName);
}

/** The package's own symbols its declarations name without any entry point exporting them. */
function unexportedReferences(checker, pkg, own, exportedTargets) {
  const missing = new Map();
  for (const { name, declarations } of own) {
    for (const symbol of referencedSymbols(checker, declarations)) {
      const file = symbol.declarations?.[0]?.getSourceFile().fileName;
      if (!file || exportedTargets.has(symbol) || owningPackage(file) !== pkg.name) continue;
      missing.set(symbol, [...(missing.get(symbol) ?? []), name]);
    }
  }
  return [...missing]
    .map(([symbol, users]) => ({ name: symbol.name, symbol, users }))
    .sort(byName)
    .map(
      ({ name, symbol, users }) =>
        `- \`${name}\` (${kindOf(symbol)}), named by ${users.map((u) => `\`${u}\``).join(', ')}`,
    );
}

function entryPointSection(checker, pkg, { importPath }, exported, exportedTargets) {
  const own = exported.filter((entry) => entry.from === pkg.name);
  const lines = [`## \`${importPath}\``, '', `${exported.length} exported names.`, ''];
  for (const { name, target, declarations } of own) {
    const alias = target.name !== name ? `, declared as \`${target.name}\`` : '';
    lines.push(`### \`${name}\` (${kindOf(target)}${alias})`, '', '```ts');
    lines.push(...declarations.map(declarationText), '```', '');
  }
  const reexported = new Map();
  for (const entry of exported.filter((e) => e.from !== pkg.name))
    reexported.set(entry.from, [...(reexported.get(entry.from) ?? []), entry]);
  for (const [from, entries] of [...reexported].sort(([a], [b]) => (a < b ? -1 : 1))) {
    lines.push(`### Re-exported from \`${from}\``, '');
    lines.push(...entries.map(({ name, target }) => `- \`${name}\` (${kindOf(target)})`), '');
  }
  const unexported = unexportedReferences(checker, pkg, own, exportedTargets);
  if (unexported.length)
    lines.push('### Named by these declarations but not exported', '', ...unexported, '');
  return lines;
}

async function reports() {
  const packages = listPackages().map((pkg) => ({ ...pkg, entries: entryPoints(pkg) }));
  const program = ts.createProgram(
    packages.flatMap(({ entries }) => entries.map(({ typesFile }) => typesFile)),
    {
      module: ts.ModuleKind.Node16,
      moduleResolution: ts.ModuleResolutionKind.Node16,
      target: ts.ScriptTarget.ES2022,
      types: ['node'],
      noEmit: true,
      skipLibCheck: true,
    },
  );
  const checker = program.getTypeChecker();
  const prettierOptions = {
    ...(await prettier.resolveConfig(join(ROOT, REPORT_FILE))),
    parser: 'markdown',
  };
  return Promise.all(
    packages.map(async (pkg) => {
      const exported = pkg.entries.map((entry) => exportsOf(program, entry));
      const exportedTargets = new Set(exported.flat().map(({ target }) => target));
      const sections = pkg.entries.flatMap((entry, index) =>
        entryPointSection(checker, pkg, entry, exported[index], exportedTargets),
      );
      const text = [`# API report: \`${pkg.name}\``, '', ...HEADER, '', ...sections].join('\n');
      const formatted = await prettier.format(text, prettierOptions);
      return { file: join(pkg.dir, REPORT_FILE), text: formatted };
    }),
  );
}

async function main() {
  const update = process.argv.includes('--update');
  if (!process.argv.includes('--no-build')) buildPackages();
  let stale = 0;
  for (const { file, text } of await reports()) {
    const name = relative(ROOT, file);
    if (!existsSync(file)) {
      if (!update) process.stderr.write(`${name} is missing.\n`);
    } else {
      const committed = readFileSync(file, 'utf8');
      if (committed === text) continue;
      if (!update)
        process.stderr.write(
          `${name} differs from the built declarations:\n${lineDiff(committed, text)}\n`,
        );
    }
    stale += 1;
    if (update) {
      writeFileSync(file, text);
      process.stdout.write(`updated ${name}\n`);
    }
  }
  if (stale && !update)
    fail(
      'The public surface changed. If that is intended, run `npm run api:update` and commit the reports.',
    );
  if (!update) process.stdout.write('API reports match the built declarations.\n');
}

runCheck(main);
