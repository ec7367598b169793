'use strict';
/**
 * CPU and memory of processes, read from Linux /proc. CPU is utime + stime of every thread of
 * the process (and of its live children, so nginx's master + worker count as one proxy).
 */
const fs = require('node:fs');
const { execFileSync } = require('node:child_process');

/** Clock ticks per second for /proc/<pid>/stat times (USER_HZ, 100 on mainstream kernels). */
const CLOCK_TICKS = readClockTicks();

function readClockTicks() {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
}

/** Parses one /proc/<pid>/stat line into { ppid, cpuSeconds }. The comm field may hold spaces. */
function parseStat(line) {
  const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): ppid is field 4, utime field 14, stime field 15 (man 5 proc).
  return {
    ppid: Number(fields[1]),
    cpuSeconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS,
  };
}

function readStat(pid) {
  try {
    return parseStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The pid and the pids of all its live descendants. */
function processTree(rootPid) {
  const children = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(entry);
    if (!stat) continue;
    if (!children.has(stat.ppid)) children.set(stat.ppid, []);
    children.get(stat.ppid).push(Number(entry));
  }
  const tree = [];
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.shift();
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** CPU seconds (user + system) consumed so far by one process (all its threads). */
function processCpuSeconds(pid) {
  return readStat(pid)?.cpuSeconds ?? NaN;
}

/** CPU seconds (user + system) consumed so far by the process tree rooted at `pid`. */
function treeCpuSeconds(pid) {
  let total = 0;
  for (const p of processTree(pid)) total += readStat(p)?.cpuSeconds ?? 0;
  return total;
}

/** Reads `VmRSS` and `VmHWM` (peak RSS) of one process, in bytes. */
function readMemory(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return { rss: statusKiB(status, 'VmRSS') * 1024, peak: statusKiB(status, 'VmHWM') * 1024 };
  } catch {
    return { rss: 0, peak: 0 };
  }
}

function statusKiB(status, key) {
  const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) : 0;
}

/** Current and peak RSS of the process tree rooted at `pid` (sums over the tree), in bytes. */
function treeMemory(pid) {
  let rss = 0;
  let peak = 0;
  for (const p of processTree(pid)) {
    const mem = readMemory(p);
    rss += mem.rss;
    peak += mem.peak;
  }
  return { rss, peak };
}

/**
 * Resets the peak RSS (VmHWM) of the tree so that each workload reports its own peak
 * (`echo 5 > /proc/<pid>/clear_refs`, Linux >= 4.0). Returns false when not permitted.
 */
function resetPeakMemory(pid) {
  let ok = true;
  for (const p of processTree(pid)) {
    try {
      fs.writeFileSync(`/proc/${p}/clear_refs`, '5');
    } catch {
      ok = false;
    }
  }
  return ok;
}

module.exports = {
  CLOCK_TICKS,
  parseStat,
  processTree,
  processCpuSeconds,
  treeCpuSeconds,
  treeMemory,
  readMemory,
  resetPeakMemory,
};
