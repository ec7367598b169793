import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { resolveBin, runNodeProcess, startNodeProcess, type NodeProcess } from './node-process';

describe('node processes for CLI tests', () => {
  let dir: string;
  let started: NodeProcess | undefined;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'node-process-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    await started?.stop('SIGKILL');
    started = undefined;
  });

  /** Writes a program into the temporary directory and returns its path. */
  function program(name: string, source: string): string {
    const file = path.join(dir, `${name}.js`);
    writeFileSync(file, source);
    return file;
  }

  it('runs a program to its end with its exit code and whole output', async () => {
    const script = program(
      'ends',
      `process.stdout.write('out ' + process.argv[2] + ' ' + process.env.EXTRA + '\\n');
process.stderr.write('err\\n');
process.exitCode = 3;`,
    );
    expect(await runNodeProcess({ script, args: ['arg'], env: { EXTRA: 'env' } })).toEqual({
      code: 3,
      signal: null,
      stdout: 'out arg env\n',
      stderr: 'err\n',
    });
  });

  it('waits for a line and stops the program with a signal', async () => {
    const script = program(
      'listens',
      `console.log('starting'); console.log('listening 127.0.0.1:4321'); setInterval(() => {}, 1000);`,
    );
    started = startNodeProcess({ script });
    const address = await started.waitForLine(
      (line) => /^listening (\S+)$/.exec(line)?.[1],
      20_000,
    );
    expect([address, started.running, started.lines]).toEqual([
      '127.0.0.1:4321',
      true,
      ['starting', 'listening 127.0.0.1:4321'],
    ]);
    expect(await started.stop()).toEqual({ code: null, signal: 'SIGTERM' });
    expect(started.running).toBe(false);
  });

  it('rejects a wait when the program exits first, with its output', async () => {
    const script = program(
      'fails',
      `console.log('no luck'); console.error('broken'); process.exitCode = 2;`,
    );
    started = startNodeProcess({ script, name: 'fails' });
    await expect(started.waitForLine(() => undefined, 20_000)).rejects.toThrow(
      'fails exited (code 2, signal null)\n--- stdout ---\nno luck\n--- stderr ---\nbroken\n',
    );
  });

  it('rejects a wait that times out', async () => {
    started = startNodeProcess({ script: program('silent', 'setInterval(() => {}, 1000);') });
    await expect(started.waitForLine(() => undefined, 50)).rejects.toThrow(
      'silent.js printed no expected line within 50 ms',
    );
  });

  it('kills a program that ignores the signal after the grace period', async () => {
    const script = program(
      'stubborn',
      `process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000);`,
    );
    started = startNodeProcess({ script });
    await started.waitForLine((line) => (line === 'ready' ? line : undefined), 20_000);
    expect(await started.stop('SIGTERM', 200)).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('exchanges IPC messages', async () => {
    const script = program('ipc', `process.on('message', (m) => process.send({ got: m }));`);
    started = startNodeProcess({ script, ipc: true });
    expect(await started.request({ question: 1 })).toEqual({ got: { question: 1 } });
  });

  it('finds a package bin from its package.json', () => {
    expect(resolveBin('@grpc-proxy/testing', 'grpc-proxy-echo')).toBe(
      path.resolve(__dirname, '..', 'bin', 'grpc-proxy-echo.js'),
    );
    expect(() => resolveBin('@grpc-proxy/testing', 'nope')).toThrow(
      /package\.json declares no nope bin$/,
    );
  });
});
