import type { Backend, BackendTls } from '@grpc-proxy/handler';
import { safely } from '@grpc-proxy/handler/engine';

/** A backend that hears how the connection attempts to its target end (`createBackend`'s). */
export type ReportingBackend = Pick<Backend, 'reportConnection' | 'isAvailable' | 'closed'>;

/** Whether `backend` wants to hear how connection attempts end. */
export function isReporting(backend: unknown): backend is ReportingBackend {
  return (
    typeof backend === 'object' &&
    backend !== null &&
    typeof (backend as ReportingBackend).reportConnection === 'function'
  );
}

/**
 * Passive health of one target of the pool (a target and its TLS options): the backends routed
 * to it that want each connection attempt's outcome, and the probe timer while one of them is
 * out of rotation. Closed backends are dropped as they are met.
 */
export class TargetHealth {
  private readonly backends = new Set<ReportingBackend>();
  private timer: NodeJS.Timeout | undefined = undefined;

  constructor(
    readonly target: string,
    readonly tls: BackendTls | undefined,
  ) {}

  /** Adds a backend that reports for this target (once; a set). */
  add(backend: ReportingBackend): void {
    this.backends.add(backend);
  }

  /** No backend reports for this target any more: forget it. */
  get empty(): boolean {
    this.dropClosed();
    return this.backends.size === 0;
  }

  /** Whether a backend that reports for this target is out of rotation (and not closed). */
  anyDown(): boolean {
    this.dropClosed();
    for (const backend of this.backends) {
      if (backend.isAvailable?.() === false) return true;
    }
    return false;
  }

  /** Tells every backend that reports for this target how a connection attempt ended. */
  report(error: Error | undefined): void {
    this.dropClosed();
    for (const backend of this.backends) {
      safely('backend.reportConnection', () => backend.reportConnection?.(error));
    }
  }

  /** Runs `probe` at `atMs` (epoch ms), unless a probe is already due; never holds the process. */
  schedule(atMs: number, probe: () => void): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        probe();
      },
      Math.max(0, atMs - Date.now()),
    );
    this.timer.unref();
  }

  /** Whether a probe is due. */
  get probing(): boolean {
    return this.timer !== undefined;
  }

  /** No more probes. */
  cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private dropClosed(): void {
    for (const backend of this.backends) {
      if (backend.closed === true) this.backends.delete(backend);
    }
  }
}
