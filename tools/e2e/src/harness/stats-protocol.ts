/** What a test sends to the stats agent in the proxy process. */
export interface StatsRequest {
  type: 'stats';
  /** Run a full garbage collection first (needs `--expose-gc`). */
  gc: boolean;
}

/** What the stats agent answers: `process.memoryUsage()` and active handles by type. */
export interface ProcessStats {
  /** Whether `--expose-gc` was given, so the heap figures are after a full GC. */
  gcAvailable: boolean;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  /** Memory of C++ objects bound to JS objects, including Buffer contents. */
  external: number;
  /** Memory of ArrayBuffers and Buffers (part of `external`). */
  arrayBuffers: number;
  /** `process.getActiveResourcesInfo()` counted by type, e.g. `{ TCPSocketWrap: 2 }`. */
  activeResources: Record<string, number>;
}
