'use strict';
/**
 * Runs the conformance cases against one peer: a fresh echo backend in this process (the cases
 * read its call log and watch its HTTP/2 streams), the peer in front of it, then every case in
 * turn, each within its time budget. Never throws: a peer that cannot start, or a case that
 * fails, is a result.
 */

/** A failure message on one line, without the case's name (the table says which case). */
function cleanMessage(caseName, error) {
  const text = error instanceof Error ? error.message : String(error);
  const line = text
    .replace(new RegExp(`^${caseName}: `), '')
    .replace(/\s+/g, ' ')
    .trim();
  return line.length > 500 ? `${line.slice(0, 497)}...` : line;
}

/** Resolves with `promise`, or rejects after `ms` saying the case ran out of time. */
function withBudget(promise, ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish within its ${ms} ms budget`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Runs `cases` against `peer`; resolves with one result per case: `{ name, ok, ms, message? }`,
 * or `{ startError }` when the peer did not start.
 * @param {object} peer a definition of ./peers
 * @param {{ cases: object[], options: object, tmpDir: string, log: (line: string) => void,
 *   startEchoServer: Function }} run
 */
async function runPeer(peer, { cases, options, tmpDir, log, startEchoServer }) {
  const backend = await startEchoServer({ name: 'conformance-backend' });
  let started;
  try {
    try {
      started = await peer.start({ backend, tmpDir });
    } catch (error) {
      return { startError: error instanceof Error ? error.message : String(error) };
    }
    const results = [];
    for (const conformanceCase of cases) {
      const begin = Date.now();
      let result;
      try {
        const budget = conformanceCase.timeoutFor(options);
        await withBudget(conformanceCase.run(started.address, backend, options), budget);
        result = { name: conformanceCase.name, ok: true };
      } catch (error) {
        result = {
          name: conformanceCase.name,
          ok: false,
          message: cleanMessage(conformanceCase.name, error),
        };
      }
      result.ms = Date.now() - begin;
      log(
        `  ${result.ok ? 'pass' : 'FAIL'} ${conformanceCase.name} (${result.ms} ms)${result.ok ? '' : `: ${result.message}`}`,
      );
      results.push(result);
    }
    return { results };
  } finally {
    await started?.stop();
    backend.forceClose();
  }
}

module.exports = { runPeer, cleanMessage };
