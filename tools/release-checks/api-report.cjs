// The public surface of every package, one report per package listing each entry point's exports
// with their kind and declaration, read from the built .d.ts files (what a user compiles against).
//   node tools/release-checks/api-report.cjs           compare with the committed reports
//   node tools/release-checks/api-report.cjs --update  rewrite them
// Both build the packages first; --no-build reads dist/ as it is.
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const { dirname, join, relative } = require('node:path');
const ts = require('typescript');
const prettier = require('prettier');
const { ROOT, buildPackages, fail, listPackages } = require('./workspace.cjs');
const { lineDiff } = require('./line-diff.cjs');

const REPORT_FILE = 'api-report.md';
const printer = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed });

/** `[exportPath, typesFile]` for each entry point in the manifest's `exports`. */
function entryPoints({ dir, manifest }) {
  return Object.entries(manifest.exports ?? { '.': { types: manifest.types } })
    .filter(([subpath, target]) => subpath !== './package.json' && target?.types)
    .map(([subpath, target]) => [subpath, join(dir, target.types)]);
}

/** Name of the package whose files hold `fileName`. */
function owningPackage(fileName, cache) {
  for (let dir = dirname(fileName); dir !== dirname(dir); dir = dirname(dir)) {
    const manifestFile = join(dir, 'package.json');
    if (!cache.has(dir) && existsSync(manifestFile))
      cache.set(dir, JSON.parse(readFileSync(manifestFile, 'utf8')).name);
    if (cache.get(dir)) return cache.get(dir);
  }
  return '?';
}

function kindOf(symbol) {
  const flags = symbol.flags;
  const kinds = [];
  if (flags & ts.SymbolFlags.Class) kinds.push('class');
  else if (flags & ts.SymbolFlags.Function) kinds.push('function');
  if (flags & ts.SymbolFlags.Enum) kinds.push('enum');
  if (flags & ts.SymbolFlags.Variable) {
    const list = symbol.declarations?.find(ts.isVariableDeclaration)?.parent;
    kinds.push(list && list.flags & ts.NodeFlags.Const ? 'const' : 'variable');
  }
  if (flags & ts.SymbolFlags.Interface) kinds.push('interface');
  if (flags & ts.SymbolFlags.TypeAlias) kinds.push('type');
  if (flags & ts.SymbolFlags.Module) kinds.push('namespace');
  return kinds.join(' + ') || 'unknown';
}

function declarationText(declaration) {
  const node = ts.isVariableDeclaration(declaration) ? declaration.parent.parent : declaration;
  return printer
    .printNode(ts.EmitHint.Unspecified, node, node.getSourceFile())
    .replace(/^(export )?(declare )?/, '');
}

function entryPointSection(checker, pkg, subpath, typesFile, program, owners) {
  const importPath = pkg.name + subpath.slice(1);
  const sourceFile = program.getSourceFile(typesFile);
  const moduleSymbol = sourceFile && checker.getSymbolAtLocation(sourceFile);
  if (!moduleSymbol) fail(`${importPath}: ${relative(ROOT, typesFile)} is missing or not a module`);
  const exported = checker
    .getExportsOfModule(moduleSymbol)
    .map((symbol) => {
      const target =
        symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      const declarations = target.declarations ?? [];
      const from = declarations.length
        ? owningPackage(declarations[0].getSourceFile().fileName, owners)
        : '?';
      if (!declarations.length)
        fail(`${importPath}: the export ${symbol.name} resolves to nothing`);
      return { name: symbol.name, target, declarations, from };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const own = exported.filter((entry) => entry.from === pkg.name);
  const lines = [`## \`${importPath}\``, '', `${exported.length} exported names.`, ''];
  for (const { name, target, declarations } of own) {
    const alias = target.name !== name ? `, declared as \`${target.name}\`` : '';
    lines.push(`### \`${name}\` (${kindOf(target)}${alias})`, '', '```ts');
    lines.push(...declarations.map(declarationText), '```', '');
  }
  const reexported = new Map();
  for (const entry of exported.filter((e) => e.from !== pkg.name)) {
    reexported.set(entry.from, [...(reexported.get(entry.from) ?? []), entry]);
  }
  for (const [from, entries] of [...reexported].sort(([a], [b]) => (a < b ? -1 : 1))) {
    lines.push(`### Re-exported from \`${from}\``, '');
    lines.push(...entries.map(({ name, target }) => `- \`${name}\` (${kindOf(target)})`), '');
  }
  return lines.join('\n');
}

async function reports() {
  const packages = listPackages();
  const entries = packages.flatMap((pkg) =>
    entryPoints(pkg).map(([subpath, typesFile]) => ({ pkg, subpath, typesFile })),
  );
  const program = ts.createProgram(
    entries.map(({ typesFile }) => typesFile),
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
  const owners = new Map();
  const prettierOptions = {
    ...(await prettier.resolveConfig(join(ROOT, REPORT_FILE))),
    parser: 'markdown',
  };
  return Promise.all(
    packages.map(async (pkg) => {
      const sections = entries
        .filter((entry) => entry.pkg === pkg)
        .map(({ subpath, typesFile }) =>
          entryPointSection(checker, pkg, subpath, typesFile, program, owners),
        );
      const text = [
        `# API report: \`${pkg.name}\``,
        '',
        '<!-- Generated from the built .d.ts by `npm run api:update`; `npm run api:check` (part of `npm test`) fails when it differs. -->',
        '',
        'Every name each entry point exports, with its kind and declaration (TSDoc left out).',
        'A change here is a change of the public surface.',
        '',
        ...sections,
      ].join('\n');
      return {
        file: join(pkg.dir, REPORT_FILE),
        text: await prettier.format(text, prettierOptions),
      };
    }),
  );
}

async function main() {
  const update = process.argv.includes('--update');
  if (!process.argv.includes('--no-build')) buildPackages();
  let stale = 0;
  for (const { file, text } of await reports()) {
    const committed = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (committed === text) continue;
    if (update) {
      writeFileSync(file, text);
      process.stdout.write(`updated ${relative(ROOT, file)}\n`);
    } else {
      stale += 1;
      const name = relative(ROOT, file);
      process.stderr.write(
        existsSync(file)
          ? `${name} differs from the built declarations:\n${lineDiff(committed, text)}\n`
          : `${name} is missing.\n`,
      );
    }
  }
  if (stale)
    fail(
      `The public surface changed. If that is intended, run \`npm run api:update\` and commit the reports.`,
    );
  if (!update) process.stdout.write('API reports match the built declarations.\n');
}

main().catch((error) => fail(error.stack ?? String(error)));
