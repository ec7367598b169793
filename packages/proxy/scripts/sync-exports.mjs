// Rewrites the layer part of src/index.ts from the layers' src/index.ts (codec, handler's root,
// director), so that the umbrella re-exports every public name of each layer by name (no
// `export *`). The part from the "@grpc-proxy/proxy" marker on (this package's own exports) is
// kept as it is.
//
//   node packages/proxy/scripts/sync-exports.mjs && npx prettier --write packages/proxy/src/index.ts
//
// src/index.spec.ts fails when a runtime export is missing or extra, and the typecheck when one
// is gone. A name two layers export is an error: each public name has one owner.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packages = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const LAYERS = {
  codec: 'raw payloads and gRPC message framing.',
  handler: 'the proxy engine and its contracts.',
  director: 'directors that compose, backends, health checking.',
};
const OWN_MARKER = '// @grpc-proxy/proxy:';

const owner = new Map(); // name -> layer
const lines = [
  '/**',
  ' * One import for the layers of grpc-proxy (codec, handler, director), plus what it takes to',
  ' * run the `grpc-proxy` command in-process: config loading, `startProxy`, metrics.',
  ' *',
  ' * Every export is listed by name (no `export *`): the public surface is what this file shows.',
  ' * The layer part is written by scripts/sync-exports.mjs.',
  ' */',
  '',
];
for (const [layer, title] of Object.entries(LAYERS)) {
  const source = readFileSync(join(packages, layer, 'src', 'index.ts'), 'utf8');
  const values = [];
  const types = [];
  for (const [, typeOnly, list] of source.matchAll(/export\s+(type\s+)?\{([^}]*)\}\s*from/g)) {
    for (const part of list.split(',').map((entry) => entry.trim())) {
      if (part === '') continue;
      const type = Boolean(typeOnly) || part.startsWith('type ');
      const name = part
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .pop();
      if (owner.has(name)) {
        throw new Error(`${name} is exported by @grpc-proxy/${owner.get(name)} and by ${layer}`);
      }
      owner.set(name, layer);
      (type ? types : values).push(name);
    }
  }
  const sorted = (names) =>
    [...names].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
  lines.push(`// @grpc-proxy/${layer}: ${title}`);
  if (values.length > 0)
    lines.push(`export { ${sorted(values).join(', ')} } from '@grpc-proxy/${layer}';`);
  if (types.length > 0)
    lines.push(`export type { ${sorted(types).join(', ')} } from '@grpc-proxy/${layer}';`);
  lines.push('');
}
const indexFile = join(packages, 'proxy', 'src', 'index.ts');
const current = readFileSync(indexFile, 'utf8');
const own = current.indexOf(OWN_MARKER);
if (own < 0) throw new Error(`${indexFile} has no "${OWN_MARKER}" marker`);
writeFileSync(indexFile, lines.join('\n') + current.slice(own));
