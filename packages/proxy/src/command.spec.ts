import { UsageError, applyFlags } from './command';

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
