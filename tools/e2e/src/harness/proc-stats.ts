import { readFileSync, readdirSync } from 'node:fs';

/** Memory of a process as the kernel sees it, in bytes. */
export interface KernelMemory {
  /** Resident set size now (`VmRSS`). */
  rss: number;
  /** Peak resident set size since the process started (`VmHWM`). */
  peakRss: number;
}

/**
 * Reads a process's resident memory from `/proc/<pid>/status` (Linux). Works for any process,
 * including a proxy that exposes no statistics of its own.
 */
export function readKernelMemory(pid: number): KernelMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
    if (!match) throw new Error(`/proc/${pid}/status has no ${field}`);
    return Number(match[1]) * 1024;
  };
  return { rss: kib('VmRSS'), peakRss: kib('VmHWM') };
}

/**
 * Samples a process's RSS every `intervalMs` until stopped; `stop()` returns the largest value
 * seen (the kernel's `VmHWM` is since process start, so it cannot measure one phase).
 */
export function sampleRss(pid: number, intervalMs = 20): { stop(): number } {
  let max = readKernelMemory(pid).rss;
  const timer = setInterval(() => {
    try {
      max = Math.max(max, readKernelMemory(pid).rss);
    } catch {
      // The process exited; the test will notice on its own.
    }
  }, intervalMs);
  return {
    stop(): number {
      clearInterval(timer);
      return max;
    },
  };
}

/** Bytes as MiB with one decimal, for reports. */
export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * Number of open file descriptors of a process (`/proc/<pid>/fd`): every socket, pipe and file,
 * including the unref'd sockets of grpc-js channels that `process.getActiveResourcesInfo()`
 * does not list.
 */
export function countOpenFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}
