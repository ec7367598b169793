import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { killAll, runCli } from './test-support/cli-process';

const EXAMPLE_CONFIG = path.resolve(__dirname, '../../../examples/grpc-proxy.yaml');

describe('grpc-proxy command: flags and config errors (child process)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'grpc-proxy-cli-'));
  });
  afterEach(async () => {
    await killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  function writeConfig(text: string): string {
    const file = path.join(dir, 'proxy.yaml');
    writeFileSync(file, text);
    return file;
  }

  it('prints help listing every flag and the check-config command, exit 0', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    for (const flag of [
      '--config <file>',
      '--listen <address>',
      '--backend <target>',
      '--health-check',
      '--admin <address>',
      '--log-level <level>',
      '--log-format <format>',
      '--drain-timeout <ms>',
      '--max-message-bytes <bytes>',
      '--max-concurrent-streams <n>',
      'check-config <file>',
    ]) {
      expect(stdout).toContain(flag);
    }
  });

  it('prints the package version', async () => {
    expect(await runCli(['--version'])).toEqual({ code: 0, stdout: '0.1.0\n', stderr: '' });
  });

  it('refuses to start without anything to proxy to, exit 2', async () => {
    expect(await runCli([])).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'grpc-proxy: nothing to proxy to: give --backend <host:port> (repeatable) or --config <file>\n',
    });
  });

  it('reports a bad flag value as the config field it sets, exit 2, nothing started', async () => {
    expect(
      await runCli(['--listen', 'nowhere', '--backend', '127.0.0.1:1', '--log-level', 'info']),
    ).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'grpc-proxy: invalid config (command-line flags):\n' +
        '  listen[0]: must be host:port, [ipv6]:port or unix:/path, got "nowhere"\n',
    });
  });

  it('rejects malformed numbers, unknown options and contradicting flags, exit 2', async () => {
    const notNumber = await runCli(['--backend', 'a:1', '--drain-timeout', 'soon']);
    expect(notNumber.code).toBe(2);
    expect(notNumber.stderr).toContain(
      "error: option '--drain-timeout <ms>' argument 'soon' is invalid. must be an integer >= 0.",
    );
    const unknown = await runCli(['--backend', 'a:1', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("error: unknown option '--bogus'");
    const both = await runCli(['--backend', 'a:1', '--config', EXAMPLE_CONFIG]);
    expect(both).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'grpc-proxy: --backend cannot be combined with --config: list the backends in the config file\n',
    });
    const badLevel = await runCli(['--backend', 'a:1', '--log-level', 'loud']);
    expect(badLevel.code).toBe(2);
    expect(badLevel.stderr).toContain(
      "error: option '--log-level <level>' argument 'loud' is invalid.",
    );
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
    const result = await runCli(['--config', file]);
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: `grpc-proxy: invalid config ${file}:\n  backends[0].targets: must NOT have fewer than 1 items\n`,
    });
    writeConfig(`
listen: 127.0.0.1:0
tls: { cert: missing.crt, key: missing.key }
backends: [{ name: a, targets: ["127.0.0.1:1"] }]
routes: [{ service: acme.A, backend: b }]
`);
    expect(await runCli(['--config', file])).toEqual({
      code: 2,
      stdout: '',
      stderr:
        `grpc-proxy: invalid config ${file}:\n` +
        '  routes[0].backend: unknown backend "b" (known: a)\n',
    });
    writeConfig(
      'listen: 127.0.0.1:0\ntls: { cert: missing.crt, key: missing.key }\nbackends: [{ name: a, targets: ["127.0.0.1:1"] }]\n',
    );
    expect(await runCli(['--config', file])).toEqual({
      code: 2,
      stdout: '',
      stderr:
        `grpc-proxy: invalid config ${file}:\n` +
        `  tls.cert: cannot read ${path.join(dir, 'missing.crt')} (ENOENT)\n` +
        `  tls.key: cannot read ${path.join(dir, 'missing.key')} (ENOENT)\n`,
    });
  });

  it('exits 1 with the address when a listener cannot be bound', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const result = await runCli(['--listen', `127.0.0.1:${port}`, '--backend', '127.0.0.1:1']);
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
    expect(await runCli(['check-config', EXAMPLE_CONFIG])).toEqual({
      code: 0,
      stdout: `${EXAMPLE_CONFIG}: OK — listen 127.0.0.1:8080; backends users (2), orders (1); 4 route(s); default backend users\n`,
      stderr: '',
    });
  });

  it('check-config lists the issues of a bad file, exit 2', async () => {
    const file = writeConfig(
      'backends:\n  - name: a\n    targets: [x:1]\n    balancing: random\nlog: { level: loud }\n',
    );
    expect(await runCli(['check-config', file])).toEqual({
      code: 2,
      stdout: '',
      stderr:
        `grpc-proxy: invalid config ${file}:\n` +
        '  backends[0].balancing: must be one of round_robin, first_healthy, got string "random"\n' +
        '  log.level: must be one of fatal, error, warn, info, debug, trace, silent, got string "loud"\n',
    });
    const missing = path.join(dir, 'nope.yaml');
    expect(await runCli(['check-config', missing])).toEqual({
      code: 2,
      stdout: '',
      stderr: `grpc-proxy: invalid config ${missing}:\n  (file): cannot read the config file (ENOENT)\n`,
    });
  });
});
