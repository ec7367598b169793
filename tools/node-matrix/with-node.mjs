#!/usr/bin/env node
// with-node <version> <command> [args...]
// Runs a command with the given Node.js release first in PATH, so that `npm`, `npx`, `nx`, jest
// and every `#!/usr/bin/env node` script it starts run on that release. <version> is a major line
// of versions.json (22, 24, 26), `newestLts`, `oldest`, or an exact x.y.z.
import { spawnSync } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { ensureNode, resolveVersion } from './node-release.mjs';

const [spec, command, ...args] = process.argv.slice(2);
process.exitCode = spec && command ? run() : usage();

function usage() {
  process.stderr.write('usage: with-node <version> <command> [args...]\n');
  return 2;
}

function run() {
  const binDir = ensureNode(spec);
  const env = { ...process.env, PATH: `${binDir}${delimiter}${process.env.PATH ?? ''}` };
  // npm hands its own Node to scripts through these; they must name the chosen release too.
  env.npm_node_execpath = join(binDir, 'node');
  env.NODE = join(binDir, 'node');
  process.stderr.write(
    `with-node: Node.js ${resolveVersion(spec)}: ${command} ${args.join(' ')}\n`,
  );
  const result = spawnSync(command, args, { stdio: 'inherit', env });
  if (result.error) {
    process.stderr.write(`with-node: ${result.error.message}\n`);
    return 1;
  }
  return result.status ?? 1;
}
