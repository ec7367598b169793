'use strict';
/**
 * A closed-loop driver shared by the built-in load generators: `concurrency` loops each issue
 * one call, wait for it, and issue the next, for a warm-up period and then a measured window.
 * Throughput counts calls completed inside the window; latency covers calls started inside it;
 * CPU is this process's own (from /proc/self/stat) over the window.
 */
const { latencySummary } = require('./stats');
const { processCpuSeconds } = require('./proc-stats');

/**
 * @param {object} options
 * @param {number} options.concurrency  calls in flight at any time
 * @param {number} options.warmupMs     unmeasured time before the window
 * @param {number} options.durationMs   length of the measured window
 * @param {() => Promise<void>} options.callOnce  one call; rejects on any failure
 * @param {AbortSignal} [options.signal]  once aborted, no loop starts another call (default: none)
 * @returns {Promise<object>} `{ calls, seconds, callsPerSecond, latencyMs, errors, firstError, cpuSeconds }`
 */
async function runClosedLoop({ concurrency, warmupMs, durationMs, callOnce, signal }) {
  const window = startWindow(warmupMs, durationMs);
  const latencies = [];
  let calls = 0;
  let errors = 0;
  let firstError;
  const loop = async () => {
    while (performance.now() < window.end && !signal?.aborted) {
      const started = performance.now();
      try {
        await callOnce();
      } catch (error) {
        errors++;
        firstError ??= String(error?.message ?? error);
        continue;
      }
      const finished = performance.now();
      if (finished >= window.start && finished <= window.end) calls++;
      if (started >= window.start && finished <= window.end) latencies.push(finished - started);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return window.result({ calls, latencies, errors, firstError });
}

/**
 * Times a measured window: `start`/`end` in performance.now() milliseconds, and this process's
 * CPU seconds sampled by timers at both edges, each edge announced on stdout as `WINDOW start`
 * and `WINDOW end`.
 */
function startWindow(warmupMs, durationMs) {
  const start = performance.now() + warmupMs;
  const end = start + durationMs;
  const cpu = { atStart: NaN, atEnd: NaN };
  // The WINDOW lines let the bench sample the proxy's CPU at the same edges; each is announced
  // once, by its timer or, if the calls finished before the timer ran, before the result.
  const markStart = () => {
    if (!Number.isNaN(cpu.atStart)) return;
    cpu.atStart = processCpuSeconds(process.pid);
    console.log('WINDOW start');
  };
  const markEnd = () => {
    if (!Number.isNaN(cpu.atEnd)) return;
    cpu.atEnd = processCpuSeconds(process.pid);
    console.log('WINDOW end');
  };
  setTimeout(markStart, warmupMs).unref();
  setTimeout(markEnd, warmupMs + durationMs).unref();
  return {
    start,
    end,
    result({ calls, latencies, errors, firstError }) {
      markStart();
      markEnd();
      const seconds = durationMs / 1000;
      return {
        calls,
        seconds,
        callsPerSecond: calls / seconds,
        latencyMs: latencySummary(latencies),
        errors,
        firstError,
        cpuSeconds: cpu.atEnd - cpu.atStart,
      };
    },
  };
}

module.exports = { runClosedLoop, startWindow };
