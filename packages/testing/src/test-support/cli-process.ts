import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const packageDir = join(__dirname, '..', '..');

/** Builds dist/ (incrementally) so that dist/cli.js exists even on a fresh clone. */
export function buildPackage(): void {
  execFileSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '--build', 'tsconfig.lib.json'],
    {
      cwd: packageDir,
      stdio: 'pipe',
    },
  );
}

/** A running `grpc-proxy-echo` process. */
export interface CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code and signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `node dist/cli.js` with `args`. */
export function spawnCli(args: string[]): CliProcess {
  const child = spawn(process.execPath, [join(packageDir, 'dist', 'cli.js'), ...args], {
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
