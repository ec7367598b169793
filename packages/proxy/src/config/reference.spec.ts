import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_MAX_MESSAGE_LENGTH } from '@grpc-proxy/codec';
import { HEALTH_CHECK_DEFAULTS } from '@grpc-proxy/director';
import { parse } from 'yaml';
import { loadConfig } from './load';
import { resolveConfig } from './resolve';
import { proxyConfigSchema } from './schema';
import { validateConfig } from './validate';

const ROOT = path.resolve(__dirname, '../../../..');

interface SchemaNode {
  readonly type?: unknown;
  readonly description?: string;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly items?: SchemaNode;
}

/** Every field of the schema by its reference name (`backends[].tls.ca`), in schema order. */
function schemaFields(node: SchemaNode, prefix = ''): Map<string, SchemaNode> {
  const fields = new Map<string, SchemaNode>();
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const objectList = child.items?.properties !== undefined;
    const name = `${prefix}${key}${objectList ? '[]' : ''}`;
    fields.set(name, child);
    const inner = objectList ? child.items : child;
    if (inner?.properties) schemaFields(inner, `${name}.`).forEach((n, f) => fields.set(f, n));
  }
  return fields;
}

/** A section (an object with fields of its own): its defaults are its fields'. */
function isSection(node: SchemaNode | undefined): boolean {
  return node?.properties !== undefined || node?.items?.properties !== undefined;
}

interface ReferenceRow {
  readonly field: string;
  readonly defaultCell: string;
  readonly meaning: string;
}

/** The rows of the README's "Config reference" table. */
function referenceRows(): ReferenceRow[] {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Config reference'));
  const table = section.slice(0, section.indexOf('\n## ')).split('\n');
  return table
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const [field, , defaultCell, meaning] = line
        .slice(1, -1)
        .split(' | ')
        .map((cell) => cell.trim());
      return { field: field.replace(/^`|`$/g, ''), defaultCell, meaning };
    });
}

/** The value a README default cell states: its first code span, read as YAML; none: undefined. */
function statedDefault(cell: string): unknown {
  const code = /`([^`]*)`/.exec(cell);
  return code === null ? undefined : parse(code[1]);
}

/** Fields the minimal config below sets itself: their value is not a default. */
const GIVEN = new Set([
  'backends[].name',
  'backends[].targets',
  'backends[].healthCheck',
  'routes[].service',
  'routes[].backend',
  'routes[].fanOut.backends',
  'routes[].fanOut.responses',
]);

/**
 * Resolves a config that sets only what is required (and turns health checks on for one backend,
 * and has one route fan out, for the defaults of `fanOut`).
 */
function resolvedMinimal(): unknown {
  const minimal = {
    backends: [
      { name: 'a', targets: ['a:1'] },
      { name: 'b', targets: ['b:1'], healthCheck: true },
    ],
    routes: [
      { service: 's.S', backend: 'b' },
      { service: 's.F', fanOut: { backends: ['a', 'b'], responses: 'stream' } },
    ],
  };
  return resolveConfig(validateConfig(minimal, 'minimal'), '/');
}

/** The value at a reference name; for a list, the first element that has it. */
function valueAt(value: unknown, field: string): unknown {
  let values = [value];
  for (const part of field.split('.')) {
    const key = part.replace(/\[\]$/, '');
    values = values.flatMap((current) => {
      const next = (current as Record<string, unknown> | undefined)?.[key];
      return part.endsWith('[]') ? ((next as unknown[] | undefined) ?? []) : [next];
    });
  }
  return field.endsWith('[]') ? undefined : values.find((each) => each !== undefined);
}

describe('the config reference in README.md', () => {
  const rows = referenceRows();
  const fields = schemaFields(proxyConfigSchema);

  it('has one row per schema field, in schema order, and no row without a field', () => {
    expect(rows.map((row) => row.field)).toEqual([...fields.keys()]);
  });

  it('gives each field the description the schema holds', () => {
    const readmeMeanings = rows.map((row) => [row.field, row.meaning]);
    expect(readmeMeanings).toEqual([...fields].map(([field, node]) => [field, node.description]));
  });

  it('states exactly the defaults resolveConfig applies, and none where it applies none', () => {
    const resolved = resolvedMinimal();
    const mismatches = rows
      .filter((row) => !GIVEN.has(row.field) && !isSection(fields.get(row.field)))
      .map((row) => {
        const actual = valueAt(resolved, row.field);
        const stated = statedDefault(row.defaultCell);
        const comparable = Array.isArray(actual) && !Array.isArray(stated) ? [stated] : stated;
        return { field: row.field, stated: comparable, actual };
      })
      .filter(({ stated, actual }) => JSON.stringify(stated) !== JSON.stringify(actual));
    expect(mismatches).toEqual([]);
    const statedWhereNoneApplies = rows
      .filter((row) => GIVEN.has(row.field) || isSection(fields.get(row.field)))
      .filter((row) => statedDefault(row.defaultCell) !== undefined);
    expect(statedWhereNoneApplies).toEqual([]);
  });

  it('takes the message limit from codec and the health-check timings from director', () => {
    const resolved = resolvedMinimal();
    expect(valueAt(resolved, 'limits.maxMessageBytes')).toBe(DEFAULT_MAX_MESSAGE_LENGTH);
    expect(valueAt(resolved, 'backends[].healthCheck')).toEqual({
      service: '',
      intervalMs: HEALTH_CHECK_DEFAULTS.pollIntervalMs,
      timeoutMs: HEALTH_CHECK_DEFAULTS.checkTimeoutMs,
    });
  });
});

describe('examples/grpc-proxy.yaml', () => {
  const file = path.join(ROOT, 'examples/grpc-proxy.yaml');

  it('loads without an issue', () => {
    const config = loadConfig(file);
    expect(config.backends.map((backend) => backend.name)).toEqual(['users', 'orders']);
    expect(config.routes).toHaveLength(4);
  });

  it('shows every field, set or commented out', () => {
    const text = readFileSync(file, 'utf8');
    const missing = [...schemaFields(proxyConfigSchema).keys()].filter((field) => {
      const key = /(\w+)(\[\])?$/.exec(field)?.[1] ?? field;
      return !new RegExp(`^[\\s#-]*${key}:`, 'm').test(text);
    });
    expect(missing).toEqual([]);
  });
});
