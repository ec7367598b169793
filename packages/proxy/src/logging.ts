import { status } from '@grpc/grpc-js';
import type { CallObserver, CallReport, FanOutOutcome, MirrorReport } from '@grpc-proxy/handler';
import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { memberName, type TargetAvailabilityChange } from './backends';
import type { LogLevel } from './config/types';
import { codeName, type ProxyMetrics } from './metrics';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Lowest level logged. Default: `info`. */
  level?: LogLevel;
  /** Human-readable lines instead of JSON. Default: true when stdout is a terminal. */
  pretty?: boolean;
  /** Where lines go. Default: stdout. */
  destination?: DestinationStream;
}

/**
 * Creates the proxy's pino logger: one JSON object per line (the format log shippers expect),
 * or readable coloured lines through pino-pretty when a person is watching a terminal.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const usePretty = options.pretty ?? process.stdout.isTTY === true;
  const base = { name: 'grpc-proxy' };
  if (usePretty) {
    // In-thread pretty printing: no worker thread to start or flush at exit.
    const stream = pretty({ colorize: true, destination: options.destination ?? 1, sync: true });
    return pino({ level, base }, stream);
  }
  return pino({ level, base }, options.destination ?? pino.destination({ dest: 1, sync: true }));
}

/** One backend of a fan-out call in a log line: name, status code, messages (and why, if not OK). */
function legSummary(leg: FanOutOutcome): string {
  const summary = `${leg.backend} ${codeName(leg.code)} ${leg.messages}`;
  return leg.code === status.OK ? summary : `${summary}: ${leg.details}`;
}

/**
 * A call observer that logs each ended call: `debug` for calls the backend answered (an access
 * log, off at the default level), `warn` for statuses the proxy produced itself. A fan-out
 * call's line has `fanOut`: each backend's `<name> <code> <messages>[: <details>]`.
 */
export function createCallLogger(logger: Logger): CallObserver {
  return {
    onCallEnd(report: CallReport) {
      const fields = {
        method: report.method,
        peer: report.peer,
        backend: report.backend,
        code: codeName(report.code),
        durationMs: Math.round(report.durationMs * 1000) / 1000,
        bytesFromClient: report.bytesFromClient,
        bytesToClient: report.bytesToClient,
        retries: report.retries,
        // A fan-out call: how each backend ended ("a/127.0.0.1:50051 OK 3", in backend order).
        ...(report.fanOut && { fanOut: report.fanOut.map(legSummary) }),
      };
      if (report.proxyError)
        logger.warn({ ...fields, details: report.details }, 'call failed in the proxy');
      else if (logger.isLevelEnabled('debug')) logger.debug(fields, 'call');
    },
    onMirrorEnd(report: MirrorReport) {
      if (!logger.isLevelEnabled('debug')) return;
      const { method, backend, outcome, details } = report;
      logger.debug(
        { method, backend, outcome, code: codeName(report.code), details },
        `mirrored copy ${outcome}`,
      );
    },
  };
}

/**
 * Turns passive-health changes of backend targets into `grpc_proxy_backend_up` /
 * `grpc_proxy_backend_ejections_total` and one log line each: `warn` "backend <name> out of
 * rotation: <connection error>" when a target is ejected, `info` "backend <name> back in
 * rotation" when a probe connects again.
 */
export function passiveHealthReporter(
  metrics: ProxyMetrics,
  logger: Logger,
): (change: TargetAvailabilityChange) => void {
  return ({ backend, target, available, error }) => {
    metrics.setBackendUp(backend, target, available);
    const name = memberName(backend, target);
    if (available) {
      logger.info({ backend, target, available }, `backend ${name} back in rotation`);
    } else {
      const reason = error?.message ?? 'connection failed';
      logger.warn(
        { backend, target, available, error: reason },
        `backend ${name} out of rotation: ${reason}`,
      );
    }
  };
}

/** One observer that forwards to several (metrics and logs). */
export function combineObservers(...observers: CallObserver[]): CallObserver {
  const starts = observers.flatMap((observer) =>
    observer.onCallStart ? [observer.onCallStart.bind(observer)] : [],
  );
  const ends = observers.flatMap((observer) =>
    observer.onCallEnd ? [observer.onCallEnd.bind(observer)] : [],
  );
  const mirrorEnds = observers.flatMap((observer) =>
    observer.onMirrorEnd ? [observer.onMirrorEnd.bind(observer)] : [],
  );
  return {
    onCallStart: (info) => starts.forEach((onStart) => onStart(info)),
    onCallEnd: (report) => ends.forEach((onEnd) => onEnd(report)),
    // Absent when no observer listens: an engine then keeps no mirror bookkeeping for it.
    ...(mirrorEnds.length > 0 && {
      onMirrorEnd: (report: MirrorReport) => mirrorEnds.forEach((onEnd) => onEnd(report)),
    }),
  };
}
