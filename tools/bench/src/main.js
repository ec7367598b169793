#!/usr/bin/env node
'use strict';
/**
 * `npm run bench [-- --quick]`: grpc-proxy measured side by side with direct calls, a naive
 * grpc-js proxy, nginx and haproxy (when installed), and the node:http2 floor. Prints a markdown
 * report on stdout, progress on stderr, and writes JSON + markdown under bench-results/.
 * `--node V` runs the whole bench again on Node.js V (see relaunch.js).
 */
const path = require('node:path');
const { USAGE, parseOptions, withoutNodeOption } = require('./options');
const { otherRelease, runOn } = require('./relaunch');

const repoRoot = path.resolve(__dirname, '..', '..', '..');

const startedAt = Date.now();
const log = (message) =>
  process.stderr.write(
    `[bench ${((Date.now() - startedAt) / 1000).toFixed(0).padStart(3)} s] ${message}\n`,
  );

/** Runs the bench `argv` asks for; resolves with the exit code. */
async function main(argv) {
  const options = parseOptions(argv, repoRoot);
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const release = options.node && (await otherRelease(options.node));
  if (release) {
    log(
      `Node.js ${process.versions.node} → ${release.version}: running the bench on ${release.node}`,
    );
    return runOn(release.node, __filename, withoutNodeOption(argv));
  }
  // Required only here: the relaunching process starts no row and needs none of it.
  const { runBench } = require('./run');
  await runBench(options, { repoRoot, log });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(`bench failed: ${error.stack ?? error}`);
    process.exitCode = 1;
  },
);
