'use strict';
/**
 * The profile run: a fresh instance of the proxy under `node --cpu-prof`, loaded with one
 * workload (unary 100 B × 100 by default), stopped, and its profile summarised for the measured
 * window. "Calls" are messages for a stream workload.
 */
const fs = require('node:fs');
const path = require('node:path');
const { checkTarget, runGrpcLoadgen, runH2load } = require('./drivers');
const { summarizeProfile } = require('./profile');

/** Monotonic clock in µs, the clock `--cpu-prof` timestamps use on Linux. */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/**
 * Profiles the first of `grpc-proxy-http2` (the engine under performance work), `grpc-proxy`,
 * `naive` found among the started targets.
 * @returns {Promise<object|undefined>} `{ label, generator, seconds, summary, file }` or `{ error }`
 */
async function profileProxy(ctx, preset, workload, { generator, outputStem }) {
  const target = ['grpc-proxy-http2', 'grpc-proxy', 'naive']
    .map((id) => ctx.targets.find((t) => t.id === id))
    .find(Boolean);
  if (!target) return { error: 'no Node proxy to profile' };
  const dir = fs.mkdtempSync(path.join(ctx.tmpDir, 'profile-'));
  // Both Node proxies end with exit code 0 on SIGTERM (the command after its drain, the naive
  // proxy after its shutdown), which is when --cpu-prof writes the profile.
  const flags = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
  let started;
  try {
    started = await target.start(ctx, flags);
    await checkTarget(started.address);
    const window = {};
    const hooks = {
      onStart: () => (window.start = monotonicUs()),
      onEnd: () => (window.end = monotonicUs()),
    };
    const options = {
      target: started.address,
      payload: workload.payload,
      warmupMs: preset.warmupMs,
      durationMs: preset.profileMs,
    };
    const stream = workload.kind === 'stream';
    const result = stream
      ? await runGrpcLoadgen({ ...options, mode: 'stream', window: workload.window }, hooks)
      : ctx.h2load
        ? await runH2load(
            {
              ...options,
              concurrency: workload.concurrency,
              h2load: ctx.h2load,
              tmpDir: ctx.tmpDir,
            },
            hooks,
          )
        : await runGrpcLoadgen(
            { ...options, mode: 'unary', concurrency: workload.concurrency },
            hooks,
          );
    await started.managed.stop(10_000);
    const file = fs.readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
    if (!file) return { error: `${target.label} wrote no .cpuprofile (did it exit on SIGTERM?)` };
    const profile = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    const inside = profile.startTime <= window.start && window.end <= profile.endTime;
    const summary = summarizeProfile(profile, {
      windowUs: inside ? [window.start, window.end] : undefined,
      calls: result.calls,
    });
    const kept = `${outputStem}-${target.id}.cpuprofile`;
    fs.copyFileSync(path.join(dir, file), kept);
    return {
      label: target.label,
      workload: workload.title,
      unit: stream ? 'message' : 'call',
      generator: stream ? 'the built-in grpc-js generator' : generator,
      seconds: preset.profileMs / 1000,
      summary,
      file: kept,
    };
  } catch (error) {
    return { error: error.message };
  } finally {
    await started?.managed.stop(1000);
  }
}

module.exports = { profileProxy };
