import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const packageDir = join(__dirname, '..', '..');

/**
 * Where the command under test is compiled: the package's own sources and tsconfig.lib.json,
 * but not dist/, so that a build running at the same time (nx runs build and test in
 * parallel) never hands the test a half-written file. Ignored by git (out-tsc/).
 */
const cliOutDir = join(packageDir, 'out-tsc', 'cli-under-test');

/** Compiles the package (incrementally) so that the command exists even on a fresh clone. */
export function buildCli(): void {
  const tsc = require.resolve('typescript/bin/tsc');
  const args = ['-p', 'tsconfig.lib.json', '--outDir', cliOutDir, '--rootDir', 'src'];
  const noDeclarations = [
    '--composite',
    'false',
    '--declaration',
    'false',
    '--declarationMap',
    'false',
  ];
  const incremental = ['--incremental', '--tsBuildInfoFile', join(cliOutDir, 'tsbuildinfo')];
  try {
    execFileSync(process.execPath, [tsc, ...args, ...noDeclarations, ...incremental], {
      cwd: packageDir,
      stdio: 'pipe',
    });
  } catch (error) {
    const output = (error as { stdout?: Buffer }).stdout?.toString() ?? '';
    throw new Error(`compiling the package for the CLI tests failed:\n${output}`);
  }
}

/** A running `grpc-proxy-echo` process. */
export interface CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code and signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the compiled `grpc-proxy-echo` (src/cli.ts) with `args`. */
export function spawnCli(args: string[]): CliProcess {
  const child = spawn(process.execPath, [join(cliOutDir, 'cli.js'), ...args], {
    cwd: packageDir,
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  return { child, stderr: () => stderr, exited };
}

/** Resolves with the first stdout line; rejects if the process exits first. */
export async function firstLine(cli: CliProcess): Promise<string> {
  const lines = createInterface({ input: cli.child.stdout });
  try {
    const line = await Promise.race([
      once(lines, 'line').then(([text]) => text as string),
      cli.exited.then(({ code }) => {
        throw new Error(`grpc-proxy-echo exited (${code}) before printing: ${cli.stderr()}`);
      }),
    ]);
    return line;
  } finally {
    lines.close();
  }
}
