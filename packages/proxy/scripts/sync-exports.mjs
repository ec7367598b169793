// Rewrites the layer part of src/index.ts from the sibling packages' src/index.ts, so that the
// umbrella re-exports every public name explicitly (no `export *`). The part after the
// "@grpc-proxy/proxy" marker (this package's own exports) is kept as it is.
//
//   node packages/proxy/scripts/sync-exports.mjs && npx prettier --write packages/proxy/src/index.ts
//
// src/index.spec.ts fails when a runtime export is missing, and the typecheck when one is gone.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packages = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const LAYERS = {
  codec: 'raw payloads and gRPC message framing.',
  handler: 'the proxy engine and its contracts.',
  director: 'directors that compose, backends, health checking.',
  testing: 'echo service, servers, clients and the conformance suite.',
};
/** A name several layers export goes out once, from the first layer listed here. */
const PREFERRED = ['handler', 'codec', 'director', 'testing'];
const OWN_MARKER = '// @grpc-proxy/proxy: the grpc-proxy command';

const owners = new Map(); // name -> [{ layer, type }]
for (const layer of Object.keys(LAYERS)) {
  const source = readFileSync(join(packages, layer, 'src', 'index.ts'), 'utf8');
  for (const [, typeOnly, list] of source.matchAll(/export\s+(type\s+)?\{([^}]*)\}\s*from/g)) {
    for (let name of list
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean)) {
      let type = Boolean(typeOnly);
      if (name.startsWith('type ')) [type, name] = [true, name.slice(5).trim()];
      if (name.includes(' as ')) name = name.split(' as ')[1].trim();
      owners.set(name, [...(owners.get(name) ?? []), { layer, type }]);
    }
  }
}

const byLayer = Object.fromEntries(
  Object.keys(LAYERS).map((layer) => [layer, { values: [], types: [] }]),
);
for (const [name, list] of owners) {
  const chosen = PREFERRED.map((layer) => list.find((owner) => owner.layer === layer)).find(
    Boolean,
  );
  byLayer[chosen.layer][chosen.type ? 'types' : 'values'].push(name);
}
const sorted = (names) => [...names].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
const lines = [
  '/**',
  ' * One import for every layer of grpc-proxy, plus the building blocks of the `grpc-proxy`',
  ' * command (config loading, `startProxy`, metrics, logs) so it can run in-process.',
  ' *',
  ' * Every export is listed by name (no `export *`): the public surface is what this file shows.',
  ' * The layer part is written by scripts/sync-exports.mjs.',
  ' */',
  '',
];
for (const [layer, title] of Object.entries(LAYERS)) {
  lines.push(`// @grpc-proxy/${layer}: ${title}`);
  const shared = [...owners].filter(
    ([, list]) => list.length > 1 && list.some((o) => o.layer === layer),
  );
  const elsewhere = shared.filter(
    ([name]) => !byLayer[layer].values.includes(name) && !byLayer[layer].types.includes(name),
  );
  if (elsewhere.length > 0)
    lines.push(
      `// (${elsewhere.map(([name]) => name).join(', ')}: exported once, from another layer, same value.)`,
    );
  const { values, types } = byLayer[layer];
  if (values.length > 0)
    lines.push(`export { ${sorted(values).join(', ')} } from '@grpc-proxy/${layer}';`);
  if (types.length > 0)
    lines.push(`export type { ${sorted(types).join(', ')} } from '@grpc-proxy/${layer}';`);
  lines.push('');
}
const indexFile = join(packages, 'proxy', 'src', 'index.ts');
const current = readFileSync(indexFile, 'utf8');
const own = current.slice(current.indexOf(OWN_MARKER));
writeFileSync(indexFile, lines.join('\n') + own);
