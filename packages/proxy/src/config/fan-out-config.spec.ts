import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseConfig } from './load';
import { issuesOf } from '../test-support/config-issues';

const BACKENDS = `
backends:
  - { name: a, targets: [x:1] }
  - { name: b, targets: [y:1] }
  - { name: c, targets: [z:1] }
defaultBackend: a
`;

describe('fanOut in the config', () => {
  it('resolves a fan-out route with onError first-error by default, and keeps a given one', () => {
    const config = parseConfig(
      `${BACKENDS}
routes:
  - { service: s.S, fanOut: { backends: [a, b, c], responses: stream } }
  - { method: /s.T/M, fanOut: { name: all, backends: [c, a], responses: merge, onError: skip } }
  - { service: s.U, backend: b }
`,
      'test.yaml',
      '/etc',
    );
    expect(config.routes).toEqual([
      {
        service: 's.S',
        fanOut: { backends: ['a', 'b', 'c'], responses: 'stream', onError: 'first-error' },
      },
      {
        method: '/s.T/M',
        fanOut: { name: 'all', backends: ['c', 'a'], responses: 'merge', onError: 'skip' },
      },
      { service: 's.U', backend: 'b' },
    ]);
  });

  it('needs exactly one of backend and fanOut on a route', () => {
    expect(
      issuesOf(`${BACKENDS}
routes:
  - { service: s.S, backend: a, fanOut: { backends: [a, b], responses: stream } }
  - { service: s.T }
`),
    ).toEqual([
      'routes[0]: has both backend and fanOut: a route goes to one backend or fans out',
      'routes[1]: needs backend (one backend) or fanOut (several backends at once)',
    ]);
  });

  it('reports unknown backend names of a fan-out, and a name that is a backend', () => {
    expect(
      issuesOf(`${BACKENDS}
routes:
  - { service: s.S, fanOut: { backends: [a, nope, c, gone], responses: stream } }
  - { service: s.T, fanOut: { name: b, backends: [a, b], responses: merge } }
`),
    ).toEqual([
      'routes[0].fanOut.backends[1]: unknown backend "nope" (known: a, b, c)',
      'routes[0].fanOut.backends[3]: unknown backend "gone" (known: a, b, c)',
      'routes[1].fanOut.name: "b" is a backend\'s name; a fan-out needs its own (logs and metrics tell them apart by name)',
    ]);
  });

  it('checks the fan-out fields against the schema', () => {
    expect(
      issuesOf(`${BACKENDS}
routes:
  - { service: s.S, fanOut: { backends: [], responses: all, onError: retry, extra: 1 } }
  - { service: s.T, fanOut: { backends: [a, a] } }
  - { service: s.U, fanOut: [a, b] }
`),
    ).toEqual([
      'routes[0].fanOut.extra: unknown field (allowed here: name, backends, responses, onError)',
      'routes[0].fanOut.backends: must NOT have fewer than 1 items',
      'routes[0].fanOut.responses: must be one of stream, merge, got string "all"',
      'routes[0].fanOut.onError: must be one of first-error, skip, got string "retry"',
      'routes[1].fanOut.responses: is required',
      'routes[1].fanOut.backends: must NOT have duplicate items (items ## 1 and 0 are identical)',
      'routes[2].fanOut: must be an object, got an array',
    ]);
  });

  it('accepts the example of the README Fan-out section', () => {
    const readme = readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Fan-out: one call to several backends'));
    const example = /```yaml\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    const config = parseConfig(example, 'README.md', '/etc');
    const shards = ['shard-1', 'shard-2', 'shard-3'];
    expect(config.routes.map((route) => route.fanOut)).toEqual([
      { backends: shards, responses: 'stream', onError: 'skip' },
      { name: 'query-all', backends: shards, responses: 'merge', onError: 'first-error' },
    ]);
  });
});
