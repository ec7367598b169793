import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runToExit, stopCommands } from './test-support/command-run';

const EXAMPLE_CONFIG = path.resolve(__dirname, '../../../examples/grpc-proxy.yaml');

/** What the command ends with for an invalid config: exit 2, every issue on stderr. */
function invalidConfig(source: string, ...issues: string[]) {
  return {
    code: 2,
    stdout: '',
    stderr: `grpc-proxy: invalid config ${source}:\n${issues.map((issue) => `  ${issue}\n`).join('')}`,
  };
}

describe('grpc-proxy command: config errors and check-config (in-process)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'grpc-proxy-cli-'));
  });
  afterEach(async () => {
    await stopCommands();
    rmSync(dir, { recursive: true, force: true });
  });

  function writeConfig(text: string): string {
    const file = path.join(dir, 'proxy.yaml');
    writeFileSync(file, text);
    return file;
  }

  it('reports a bad flag value as the config field it sets, exit 2, nothing started', async () => {
    expect(
      await runToExit(['--listen', 'nowhere', '--backend', '127.0.0.1:1', '--log-level', 'info']),
    ).toEqual(
      invalidConfig(
        '(command-line flags)',
        'listen[0]: must be host:port, [ipv6]:port or unix:/path, got "nowhere"',
      ),
    );
  });

  it('refuses --backend with --config, exit 2', async () => {
    expect(await runToExit(['--backend', 'a:1', '--config', EXAMPLE_CONFIG])).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'grpc-proxy: --backend cannot be combined with --config: list the backends in the config file\n',
    });
  });

  it('lists every issue of an invalid config file with its field path, exit 2, nothing started', async () => {
    const file = writeConfig(`
listen: 127.0.0.1:0
tls: { cert: missing.crt, key: missing.key }
backends:
  - { name: a, targets: [] }
routes:
  - { service: acme.A, backend: b }
`);
    expect(await runToExit(['--config', file])).toEqual(
      invalidConfig(file, 'backends[0].targets: must NOT have fewer than 1 items'),
    );
    writeConfig(`
listen: 127.0.0.1:0
tls: { cert: missing.crt, key: missing.key }
backends: [{ name: a, targets: ["127.0.0.1:1"] }]
routes: [{ service: acme.A, backend: b }]
`);
    expect(await runToExit(['--config', file])).toEqual(
      invalidConfig(file, 'routes[0].backend: unknown backend "b" (known: a)'),
    );
    writeConfig(
      'listen: 127.0.0.1:0\ntls: { cert: missing.crt, key: missing.key }\nbackends: [{ name: a, targets: ["127.0.0.1:1"] }]\n',
    );
    expect(await runToExit(['--config', file])).toEqual(
      invalidConfig(
        file,
        `tls.cert: cannot read ${path.join(dir, 'missing.crt')} (ENOENT)`,
        `tls.key: cannot read ${path.join(dir, 'missing.key')} (ENOENT)`,
      ),
    );
  });

  it('exits 1 with the address when a listener cannot be bound', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const result = await runToExit(['--listen', `127.0.0.1:${port}`, '--backend', '127.0.0.1:1']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(`^grpc-proxy: cannot listen on 127\\.0\\.0\\.1:${port}: .+\n$`),
      );
      expect(result.stdout).not.toContain('grpc-proxy listening');
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('check-config accepts the example config and summarises it, exit 0', async () => {
    expect(await runToExit(['check-config', EXAMPLE_CONFIG])).toEqual({
      code: 0,
      stdout: `${EXAMPLE_CONFIG}: OK — listen 127.0.0.1:8080; backends users (2), orders (1); 4 route(s); default backend users\n`,
      stderr: '',
    });
  });

  it('check-config lists the issues of a bad file, exit 2', async () => {
    const file = writeConfig(
      'backends:\n  - name: a\n    targets: [x:1]\n    balancing: random\nlog: { level: loud }\n',
    );
    expect(await runToExit(['check-config', file])).toEqual(
      invalidConfig(
        file,
        'backends[0].balancing: must be one of round_robin, first_healthy, got string "random"',
        'log.level: must be one of fatal, error, warn, info, debug, trace, silent, got string "loud"',
      ),
    );
    const missing = path.join(dir, 'nope.yaml');
    expect(await runToExit(['check-config', missing])).toEqual(
      invalidConfig(missing, '(file): cannot read the config file (ENOENT)'),
    );
  });
});
