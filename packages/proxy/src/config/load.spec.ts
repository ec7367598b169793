import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createTestPki } from '@grpc-proxy/testing';
import { loadConfig, parseConfig } from './load';
import { issuesOf } from '../test-support/config-issues';

describe('parseConfig', () => {
  it('applies every default to a minimal config', () => {
    const config = parseConfig(
      'backends: [{ name: echo, targets: ["127.0.0.1:50051"] }]',
      'x',
      '/etc',
    );
    expect(config).toEqual({
      engine: 'http2',
      workers: 1,
      listen: ['0.0.0.0:8080'],
      backends: [{ name: 'echo', targets: ['127.0.0.1:50051'], balancing: 'round_robin' }],
      routes: [],
      defaultBackend: 'echo',
      mirror: [],
      metadata: { strip: [], forwardedFor: false, mirrorHeader: 'x-grpc-proxy-mirror' },
      limits: {
        maxMessageBytes: 64 * 1024 * 1024,
        maxConcurrentStreams: 100,
        idleTimeoutMs: 300_000,
        maxResetsPerSecond: 200,
        maxBufferedBytes: 4 * 1024 * 1024,
        stallTimeoutMs: 30_000,
        backendResetBurst: 500,
        backendResetsPerSecond: 30,
        mirrorTimeoutMs: 10_000,
        keepalive: {},
      },
      log: { level: 'info' },
      shutdown: { drainTimeoutMs: 10000 },
    });
  });

  it('resolves TLS paths against the base directory and normalises routes and health checks', () => {
    const config = parseConfig(
      `
listen: "[::1]:9000"
tls: { cert: certs/server.crt, key: /abs/server.key, clientCa: ca.crt }
backends:
  - name: a
    targets: [a:1]
    tls: { ca: ca.crt, serverName: a.internal }
    healthCheck: true
  - name: b
    targets: [b:1, b:2]
    balancing: first_healthy
    healthCheck: { service: acme.B, intervalMs: 200 }
routes:
  - { service: acme.B, metadata: { x-tenant: blue }, backend: b }
  - { method: /acme.A/Get, metadata: { x-tenant: [red, green] }, backend: a }
defaultBackend: a
`,
      'x',
      '/etc/proxy',
    );
    expect(config.listen).toEqual(['[::1]:9000']);
    expect(config.tls).toEqual({
      cert: '/etc/proxy/certs/server.crt',
      key: '/abs/server.key',
      clientCa: '/etc/proxy/ca.crt',
    });
    expect(config.backends).toEqual([
      {
        name: 'a',
        targets: ['a:1'],
        balancing: 'round_robin',
        tls: { ca: '/etc/proxy/ca.crt', serverName: 'a.internal' },
        healthCheck: { service: '', intervalMs: 5000, timeoutMs: 1000 },
      },
      {
        name: 'b',
        targets: ['b:1', 'b:2'],
        balancing: 'first_healthy',
        healthCheck: { service: 'acme.B', intervalMs: 200, timeoutMs: 1000 },
      },
    ]);
    expect(config.routes).toEqual([
      { service: 'acme.B', metadata: { 'x-tenant': ['blue'] }, backend: 'b' },
      { method: '/acme.A/Get', metadata: { 'x-tenant': ['red', 'green'] }, backend: 'a' },
    ]);
  });

  it('takes engine http2 and refuses an unknown engine by name', () => {
    const backends = 'backends: [{ name: a, targets: [a:1] }]';
    expect(parseConfig(`engine: http2\n${backends}`, 'x', '/etc').engine).toBe('http2');
    expect(issuesOf(`engine: fast\n${backends}`)).toEqual([
      'engine: must be one of grpc-js, http2, got string "fast"',
    ]);
  });

  it('names the field path and the problem for every schema issue at once', () => {
    expect(
      issuesOf(`
listen: [nowhere]
backends:
  - name: a
    tagets: [x]
  - name: b
    targets: []
    balancing: random
    healthCheck: { intervalMs: 0 }
routes:
  - { method: Get, metadata: { X-Bad: v }, backend: a }
limits: { maxMessageBytes: "1MB" }
log: { level: loud }
`),
    ).toEqual([
      'listen[0]: must be host:port, [ipv6]:port or unix:/path, got "nowhere"',
      'backends[0].targets: is required',
      'backends[0].tagets: unknown field (allowed here: name, targets, balancing, tls, healthCheck)',
      'backends[1].targets: must NOT have fewer than 1 items',
      'backends[1].balancing: must be one of round_robin, first_healthy, got string "random"',
      'backends[1].healthCheck.intervalMs: must be >= 1',
      'routes[0].method: must be a full method name like /pkg.Service/Method, got "Get"',
      'routes[0].metadata["X-Bad"]: metadata keys must be lower-case letters, digits, "_", "-" or ".", got "X-Bad"',
      'limits.maxMessageBytes: must be an integer, got string "1MB"',
      'log.level: must be one of fatal, error, warn, info, debug, trace, silent, got string "loud"',
    ]);
  });

  it('reports a missing backends list and a wrong root type', () => {
    expect(issuesOf('listen: 127.0.0.1:1')).toEqual(['backends: is required']);
    expect(issuesOf('- a')).toEqual(['(root): must be an object, got an array']);
  });

  it('checks names across fields: duplicates, unknown backends, empty routes, a needed default', () => {
    expect(
      issuesOf(`
backends:
  - { name: a, targets: [x:1], tls: { cert: c.pem } }
  - { name: a, targets: [y:1], balancing: first_healthy }
routes:
  - { backend: a }
  - { service: s.S, backend: nope }
defaultBackend: gone
`),
    ).toEqual([
      'backends[0].tls: cert and key must be given together',
      'backends[1].balancing: first_healthy needs healthCheck',
      'backends[1].name: duplicate backend name "a" (also backends[0].name)',
      'routes[0]: needs at least one condition: service, method, metadata or message',
      'routes[1].backend: unknown backend "nope" (known: a)',
      'defaultBackend: unknown backend "gone" (known: a)',
    ]);
    expect(
      issuesOf('backends: [{ name: a, targets: [x:1] }, { name: b, targets: [y:1] }]'),
    ).toEqual([
      'defaultBackend: is required when there are several backends and no routes (known: a, b)',
    ]);
  });

  it('reports YAML syntax errors with line and column', () => {
    expect(issuesOf('backends:\n  - name: a\n   targets: [x:1]\n')).toEqual([
      'line 3, column 1: syntax error: Sequence item without - indicator',
    ]);
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'grpc-proxy-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('loads JSON and resolves paths against the file directory', () => {
    const pki = createTestPki();
    try {
      writeFileSync(path.join(dir, 'ca.pem'), pki.ca('ca').cert);
    } finally {
      pki.remove();
    }
    const file = path.join(dir, 'proxy.json');
    writeFileSync(
      file,
      JSON.stringify({ backends: [{ name: 'a', targets: ['h:1'], tls: { ca: 'ca.pem' } }] }),
    );
    expect(loadConfig(file).backends[0].tls).toEqual({ ca: path.join(dir, 'ca.pem') });
  });

  it('names every unreadable file by its field', () => {
    const file = path.join(dir, 'proxy.yaml');
    writeFileSync(
      file,
      'tls: { cert: s.crt, key: s.key }\nbackends: [{ name: a, targets: [h:1] }]\n',
    );
    writeFileSync(path.join(dir, 's.key'), 'x');
    expect(() => loadConfig(file)).toThrow(
      `invalid config ${file}:\n  tls.cert: cannot read ${path.join(dir, 's.crt')} (ENOENT)`,
    );
  });

  it('names every file that does not hold the PEM its field needs', () => {
    const file = path.join(dir, 'proxy.yaml');
    writeFileSync(
      file,
      'backends: [{ name: a, targets: [h:1], tls: { ca: ca.pem, cert: c.pem, key: k.pem } }]\n',
    );
    for (const name of ['ca.pem', 'c.pem', 'k.pem']) writeFileSync(path.join(dir, name), 'not pem');
    expect(() => loadConfig(file)).toThrow(
      `invalid config ${file}:\n` +
        `  backends[0].tls.ca: ${path.join(dir, 'ca.pem')} is not a PEM certificate (error:0480006C:PEM routines::no start line)\n` +
        `  backends[0].tls.cert: ${path.join(dir, 'c.pem')} is not a PEM certificate (error:0480006C:PEM routines::no start line)\n` +
        `  backends[0].tls.key: ${path.join(dir, 'k.pem')} is not a PEM private key (error:1E08010C:DECODER routines::unsupported)`,
    );
  });

  it('says when the config file itself cannot be read', () => {
    const file = path.join(dir, 'missing.yaml');
    expect(() => loadConfig(file)).toThrow(
      `invalid config ${file}:\n  (file): cannot read the config file (ENOENT)`,
    );
  });
});
