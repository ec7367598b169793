import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { parseConfig } from './load';
import { compileRoutes } from '../routing';
import { issuesOf } from '../test-support/config-issues';

const BACKENDS = `
backends:
  - { name: a, targets: [x:1] }
  - { name: b, targets: [y:1] }
defaultBackend: a
`;

describe('routes[].message in the config', () => {
  it('resolves each field path to a list of text values (numbers as decimal, booleans as 1/0)', () => {
    const config = parseConfig(
      `${BACKENDS}
routes:
  - message: { "1": tenant-a }
    backend: b
  - service: s.S
    message:
      "9.2": [eu, us]
      "2": 42
      "3": [true, false, -7, "007"]
    backend: b
  - { service: s.T, backend: a }
`,
      'test.yaml',
      '/etc',
    );
    expect(config.routes.map((route) => route.message)).toEqual([
      { '1': ['tenant-a'] },
      { '9.2': ['eu', 'us'], '2': ['42'], '3': ['1', '0', '-7', '007'] },
      undefined,
    ]);
  });

  it('counts message as the one condition a rule needs', () => {
    const text = `${BACKENDS}\nroutes:\n  - { message: { "1": x }, backend: b }\n`;
    expect(parseConfig(text, 'test.yaml', '/etc').routes).toEqual([
      { message: { '1': ['x'] }, backend: 'b' },
    ]);
  });

  it('names the route and the path of a field path that is no field numbers', () => {
    expect(
      issuesOf(`${BACKENDS}
routes:
  - { service: s.S, backend: b, message: { "1": x, "2.x": y } }
  - { service: s.T, backend: b, message: { "0": x } }
  - { service: s.U, backend: b, message: { "1..2": x, "536870912": y } }
`),
    ).toEqual([
      'routes[0].message["2.x"]: field path 2.x: "x" is no field number (1 to 536870911)',
      'routes[1].message[0]: field path 0: "0" is no field number (1 to 536870911)',
      // (JavaScript lists integer-like keys first)
      'routes[2].message[536870912]: field path 536870912: "536870912" is no field number (1 to 536870911)',
      'routes[2].message["1..2"]: field path 1..2: "" is no field number (1 to 536870911)',
    ]);
  });

  it('rejects values that are no text, number or boolean, empty lists and inexact numbers', () => {
    expect(
      issuesOf(`${BACKENDS}
routes:
  - { service: s.S, backend: b, message: { "1": { a: 1 } } }
  - { service: s.S, backend: b, message: { "1": [] } }
  - { service: s.S, backend: b, message: { "1": 1.5 } }
  - { service: s.S, backend: b, message: {} }
`),
    ).toEqual([
      'routes[0].message[1]: must be a string or an integer or a boolean or an array, got an object',
      'routes[1].message[1]: must NOT have fewer than 1 items',
      'routes[2].message[1]: must be a string or an integer or a boolean or an array, got number 1.5',
      'routes[3].message: must NOT have fewer than 1 properties',
    ]);
    expect(
      issuesOf(
        `${BACKENDS}\nroutes:\n  - { backend: b, message: { "1": 18446744073709551615 } }\n`,
      ),
    ).toEqual(['routes[0].message[1]: 18446744073709552000 is past 2^53 and not exact: quote it']);
  });

  it('accepts the example of the README section, which routes as its comments say', async () => {
    const readme = readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Routing on the request message'));
    const example = /```yaml\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    const config = parseConfig(example, 'README.md', '/etc');
    expect(config.routes.map((route) => route.message)).toEqual([
      { '1': ['acme', 'globex'] },
      { '4.2': ['DE', 'FR', 'IT'] },
    ]);
    const table = compileRoutes(config.routes, config.defaultBackend);
    /** A CreateOrderRequest: tenant_id = 1, shipping = 4 with country = 2. */
    const order = (tenant: string, country: string) => {
      const writer = new BinaryWriter().uint32(0x0a).string(tenant);
      writer.uint32(0x22).fork().uint32(0x12).string(country).join();
      return Promise.resolve(writer.finish());
    };
    const route = (message: Promise<Uint8Array>, method = '/acme.orders.v1.Orders/Create') =>
      table({ method, metadataValues: () => [], firstMessage: () => message });
    await expect(route(order('globex', 'US'))).resolves.toBe('big-tenants');
    await expect(route(order('initech', 'FR'))).resolves.toBe('eu');
    await expect(route(order('initech', 'US'))).resolves.toBe('shared');
    expect(route(order('acme', 'DE'), '/acme.users.v1.Users/Get')).toBe('shared');
  });
});
