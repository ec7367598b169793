import { UsageError, applyFlags } from './command-flags';
import { runToExit } from './test-support/command-run';

describe('applyFlags', () => {
  const file = {
    listen: '0.0.0.0:9000',
    backends: [{ name: 'a', targets: ['a:1'] }],
    log: { level: 'warn' },
    limits: { maxConcurrentStreams: 5 },
    shutdown: { drainTimeoutMs: 1 },
  };

  it('lets flags win over the file, keeping the fields they do not set', () => {
    expect(
      applyFlags(file, {
        config: 'proxy.yaml',
        listen: ['127.0.0.1:1', '127.0.0.1:2'],
        admin: '127.0.0.1:9',
        logLevel: 'debug',
        drainTimeout: 50,
        maxMessageBytes: 1000,
      }),
    ).toEqual({
      listen: ['127.0.0.1:1', '127.0.0.1:2'],
      backends: [{ name: 'a', targets: ['a:1'] }],
      admin: { listen: '127.0.0.1:9' },
      log: { level: 'debug' },
      limits: { maxConcurrentStreams: 5, maxMessageBytes: 1000 },
      shutdown: { drainTimeoutMs: 50 },
    });
  });

  it('leaves the file as it is without flags', () => {
    expect(applyFlags(file, { config: 'proxy.yaml' })).toEqual(file);
  });

  it('builds a round-robin backend named default from --backend', () => {
    expect(
      applyFlags({}, { backend: ['a:1', 'b:2'], healthCheck: true, maxConcurrentStreams: 3 }),
    ).toEqual({
      backends: [{ name: 'default', targets: ['a:1', 'b:2'], healthCheck: true }],
      limits: { maxConcurrentStreams: 3 },
    });
  });

  it('passes a document that is not an object through, for the schema to report', () => {
    expect(applyFlags(['not', 'an', 'object'], { config: 'x.yaml', listen: ['a:1'] })).toEqual([
      'not',
      'an',
      'object',
    ]);
  });

  it('refuses contradicting or pointless flag combinations', () => {
    expect(() => applyFlags({}, {})).toThrow(
      new UsageError(
        'nothing to proxy to: give --backend <host:port> (repeatable) or --config <file>',
      ),
    );
    expect(() => applyFlags({}, { config: 'x', backend: ['a:1'] })).toThrow(UsageError);
    expect(() => applyFlags({}, { config: 'x', healthCheck: true })).toThrow(
      '--health-check applies to --backend targets; in a config file use backends[].healthCheck',
    );
  });
});

describe('grpc-proxy command: help, version and flag errors (in-process)', () => {
  const usageHint = '(run grpc-proxy --help for usage)\n';

  it('prints help listing every flag and the check-config command on stdout, exit 0', async () => {
    const { code, stdout, stderr } = await runToExit(['--help']);
    expect([code, stderr]).toEqual([0, '']);
    expect(stdout).toMatch(/^Usage: grpc-proxy \[options\] \[command\]\n/);
    for (const flag of [
      '-V, --version',
      '-c, --config <file>',
      '-l, --listen <address>',
      '-b, --backend <target>',
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

  it('prints the package version, exit 0', async () => {
    expect(await runToExit(['--version'])).toEqual({ code: 0, stdout: '0.1.0\n', stderr: '' });
  });

  it('refuses to start without anything to proxy to, exit 2', async () => {
    expect(await runToExit([])).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'grpc-proxy: nothing to proxy to: give --backend <host:port> (repeatable) or --config <file>\n',
    });
  });

  it.each([
    [
      ['--drain-timeout', 'soon'],
      "error: option '--drain-timeout <ms>' argument 'soon' is invalid. must be an integer >= 0.\n",
    ],
    [
      ['--max-message-bytes', '0'],
      "error: option '--max-message-bytes <bytes>' argument '0' is invalid. must be an integer >= 1.\n",
    ],
    [['--bogus'], "error: unknown option '--bogus'\n"],
    [
      ['--log-level', 'loud'],
      "error: option '--log-level <level>' argument 'loud' is invalid. Allowed choices are fatal, error, warn, info, debug, trace, silent.\n",
    ],
  ])("rejects %j with commander's message and the usage hint, exit 2", async (flags, message) => {
    expect(await runToExit(['--backend', 'a:1', ...flags])).toEqual({
      code: 2,
      stdout: '',
      stderr: message + usageHint,
    });
  });

  it('rejects a check-config without its file, exit 2', async () => {
    expect(await runToExit(['check-config'])).toEqual({
      code: 2,
      stdout: '',
      stderr: "error: missing required argument 'file'\n" + usageHint,
    });
  });
});
