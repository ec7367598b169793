'use strict';
/**
 * Summary of a V8 `.cpuprofile` (what `node --cpu-prof` writes): self time per function
 * (functionName + url, summed over every node of the call tree), and per coarse category
 * (grpc-js, node:http2, our packages, GC...). Optionally restricted to a time window on the
 * monotonic clock, which `--cpu-prof` timestamps share with `process.hrtime` on Linux.
 */

/**
 * @param {object} profile  parsed .cpuprofile: { nodes, samples, timeDeltas, startTime, endTime }
 * @param {object} [options]
 * @param {[number, number]} [options.windowUs]  only count samples inside [start, end] (µs)
 * @param {number} [options.calls]  calls served in that window, for µs-per-call figures
 * @param {number} [options.top]    how many functions to list (default 15)
 */
function summarizeProfile(profile, { windowUs, calls, top = 15 } = {}) {
  const nodesById = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUsByNode = selfTimePerNode(profile, windowUs);
  const byFunction = new Map();
  const byCategory = new Map();
  let busyUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUsByNode) {
    const { functionName, url, lineNumber } = nodesById.get(id).callFrame;
    if (functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const key = `${functionName}\u0000${url}`;
    const entry = byFunction.get(key) ?? {
      functionName: functionName || '(anonymous)',
      location: shortUrl(url, lineNumber),
      selfUs: 0,
    };
    entry.selfUs += us;
    byFunction.set(key, entry);
    const category = categoryOf(functionName, url);
    byCategory.set(category, (byCategory.get(category) ?? 0) + us);
  }
  const withShares = (entry, selfUs) => ({
    ...entry,
    selfMs: selfUs / 1000,
    percent: busyUs ? (100 * selfUs) / busyUs : 0,
    usPerCall: calls ? selfUs / calls : undefined,
  });
  return {
    windowed: Boolean(windowUs),
    calls,
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    busyUsPerCall: calls ? busyUs / calls : undefined,
    functions: [...byFunction.values()]
      .sort((a, b) => b.selfUs - a.selfUs)
      .slice(0, top)
      .map(({ selfUs, ...entry }) => withShares(entry, selfUs)),
    categories: [...byCategory.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([category, selfUs]) => withShares({ category }, selfUs)),
  };
}

/** Self µs per node id: each sample owns the interval until the next sample. */
function selfTimePerNode({ samples, timeDeltas, startTime, endTime }, windowUs) {
  const self = new Map();
  let t = startTime;
  for (let i = 0; i < samples.length; i++) {
    t += timeDeltas[i];
    const next = i + 1 < samples.length ? t + timeDeltas[i + 1] : endTime;
    const duration = Math.max(0, next - t);
    if (windowUs && (t < windowUs[0] || t > windowUs[1])) continue;
    self.set(samples[i], (self.get(samples[i]) ?? 0) + duration);
  }
  return self;
}

/** Where a function comes from, coarsely: the question is which layer the time goes to. */
function categoryOf(functionName, url) {
  if (functionName === '(garbage collector)') return 'garbage collector';
  if (functionName === '(program)' || functionName === '(root)') return 'V8/native (program)';
  if (!url) return 'native/builtin';
  if (url.includes('/@grpc/grpc-js/')) return 'grpc-js';
  if (/\/packages\/[^/]+\/(dist|src)\//.test(url))
    return `grpc-proxy (${/\/packages\/([^/]+)\//.exec(url)[1]})`;
  if (/^node:internal\/http2|^node:http2/.test(url)) return 'node:http2 (JS side)';
  if (/^node:internal\/(streams|stream_base_commons)|^node:stream/.test(url)) return 'node streams';
  if (/^node:internal\/(timers|process\/task_queues|async_hooks)|^node:timers/.test(url))
    return 'node timers & task queues';
  if (url.startsWith('node:')) return 'node core (other)';
  if (url.includes('/node_modules/'))
    return `dependency (${/\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)[1]})`;
  return 'other';
}

/** `file:///…/node_modules/@grpc/grpc-js/build/src/call.js` → `@grpc/grpc-js/build/src/call.js:12`. */
function shortUrl(url, lineNumber) {
  if (!url) return '';
  const trimmed = url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\//, '')
    .replace(/^.*\/(packages\/[^/]+\/)/, '$1')
    .replace(/^.*\/tools\/bench\//, 'tools/bench/');
  return lineNumber >= 0 ? `${trimmed}:${lineNumber + 1}` : trimmed;
}

module.exports = { summarizeProfile, categoryOf, shortUrl };
