// What the API report says about one exported symbol, read with the TypeScript compiler API.
const { existsSync, readFileSync } = require('node:fs');
const { dirname, join } = require('node:path');
const ts = require('typescript');

const printer = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed });
const packageNames = new Map();

/** Name of the package whose files hold `fileName` (nearest package.json with a name). */
function owningPackage(fileName) {
  for (let dir = dirname(fileName); dir !== dirname(dir); dir = dirname(dir)) {
    const manifestFile = join(dir, 'package.json');
    if (!packageNames.has(dir))
      packageNames.set(
        dir,
        existsSync(manifestFile) && JSON.parse(readFileSync(manifestFile, 'utf8')).name,
      );
    if (packageNames.get(dir)) return packageNames.get(dir);
  }
  return '?';
}

/** `class`, `function`, `const`, `interface`, `type`, ... joined with `+` for merged symbols. */
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

/** The declaration as the .d.ts states it, without comments and `export declare`. */
function declarationText(declaration) {
  const node = ts.isVariableDeclaration(declaration) ? declaration.parent.parent : declaration;
  return printer
    .printNode(ts.EmitHint.Unspecified, node, node.getSourceFile())
    .replace(/^(export )?(declare )?/, '');
}

function leftmost(name) {
  let node = name;
  while (ts.isQualifiedName(node) || ts.isPropertyAccessExpression(node))
    node = ts.isQualifiedName(node) ? node.left : node.expression;
  return node;
}

/** The symbols the declarations name in their types (resolved through imports). */
function referencedSymbols(checker, declarations) {
  const found = new Set();
  const visit = (node) => {
    const name = ts.isTypeReferenceNode(node)
      ? node.typeName
      : ts.isExpressionWithTypeArguments(node)
        ? node.expression
        : ts.isTypeQueryNode(node)
          ? node.exprName
          : ts.isComputedPropertyName(node)
            ? node.expression
            : undefined;
    const symbol = name && checker.getSymbolAtLocation(leftmost(name));
    if (symbol)
      found.add(symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol);
    ts.forEachChild(node, visit);
  };
  declarations.forEach(visit);
  return [...found].filter((symbol) => !(symbol.flags & ts.SymbolFlags.TypeParameter));
}

module.exports = { declarationText, kindOf, owningPackage, referencedSymbols };
