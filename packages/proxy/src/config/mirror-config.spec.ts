import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseConfig } from './load';
import { issuesOf } from '../test-support/config-issues';

const BACKENDS = `
backends:
  - { name: a, targets: [x:1] }
  - { name: shadow, targets: [y:1] }
defaultBackend: a
`;

describe('mirror in the config', () => {
  it('resolves one mirror or a list, on a route and at the top level, percent 100 by default', () => {
    const config = parseConfig(
      `${BACKENDS}
routes:
  - { service: s.S, backend: a, mirror: { backend: shadow, percent: 12.5 } }
  - { service: s.T, backend: shadow, mirror: [{ backend: a }, { backend: shadow, percent: 0 }] }
  - { service: s.U, backend: a }
mirror: { backend: shadow }
metadata: { mirrorHeader: x-shadow }
limits: { mirrorTimeoutMs: 0 }
`,
      'test.yaml',
      '/etc',
    );
    expect(config.routes.map((route) => route.mirror)).toEqual([
      [{ backend: 'shadow', percent: 12.5 }],
      [
        { backend: 'a', percent: 100 },
        { backend: 'shadow', percent: 0 },
      ],
      undefined,
    ]);
    expect(config.mirror).toEqual([{ backend: 'shadow', percent: 100 }]);
    expect(config.metadata.mirrorHeader).toBe('x-shadow');
    expect(config.limits.mirrorTimeoutMs).toBe(0);
  });

  it('reports an unknown mirror backend like an unknown route backend', () => {
    expect(
      issuesOf(`${BACKENDS}
routes:
  - { service: s.S, backend: a, mirror: { backend: nope } }
  - { service: s.T, backend: a, mirror: [{ backend: shadow }, { backend: gone }] }
mirror: [{ backend: missing }]
`),
    ).toEqual([
      'routes[0].mirror.backend: unknown backend "nope" (known: a, shadow)',
      'routes[1].mirror[1].backend: unknown backend "gone" (known: a, shadow)',
      'mirror[0].backend: unknown backend "missing" (known: a, shadow)',
    ]);
  });

  it('checks the mirror fields, the header and the timeout against the schema', () => {
    expect(
      issuesOf(`${BACKENDS}
mirror: { percent: 101, extra: 1 }
metadata: { mirrorHeader: grpc-shadow }
limits: { mirrorTimeoutMs: -1 }
`),
    ).toEqual([
      'mirror.backend: is required',
      'mirror.extra: unknown field (allowed here: backend, percent)',
      'mirror.percent: must be <= 100',
      'metadata.mirrorHeader: must be a lower-case metadata key not starting with grpc- nor ending -bin, got "grpc-shadow"',
      'limits.mirrorTimeoutMs: must be >= 0',
    ]);
    expect(issuesOf(`${BACKENDS}\nmirror: []\nmetadata: { mirrorHeader: x-shadow-bin }\n`)).toEqual(
      [
        'mirror: must NOT have fewer than 1 items',
        'metadata.mirrorHeader: must be a lower-case metadata key not starting with grpc- nor ending -bin, got "x-shadow-bin"',
      ],
    );
    expect(issuesOf(`${BACKENDS}\nmirror: shadow\n`)).toEqual([
      'mirror: must be an object or an array, got string "shadow"',
    ]);
  });

  it('accepts the example of the README Mirror section', () => {
    const readme = readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Mirror: shadow traffic'));
    const example = /```yaml\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    const config = parseConfig(example, 'README.md', '/etc');
    expect(config.routes[0].mirror).toEqual([{ backend: 'billing-next', percent: 10 }]);
    expect(config.mirror).toEqual([{ backend: 'billing-next', percent: 1 }]);
  });
});
