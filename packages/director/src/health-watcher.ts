import { Metadata, status as grpcStatus } from '@grpc/grpc-js';
import type {
  ClientReadableStream,
  ClientUnaryCall,
  MethodDefinition,
  ServiceError,
  StatusObject,
} from '@grpc/grpc-js';
import type { Backend } from '@grpc-proxy/handler';
import { service as healthService } from 'grpc-health-check';
import type { BackoffOptions } from './backoff';
import { DEFAULT_INITIAL_BACKOFF_MS, backoffDelay } from './backoff';

/**
 * What the set knows of one backend:
 * - `UNKNOWN`: no answer yet (or the backend itself answered `UNKNOWN`);
 * - `SERVING`, `NOT_SERVING`, `SERVICE_UNKNOWN`: the backend's answer (grpc.health.v1);
 * - `UNREACHABLE`: the health call failed (backend down, connection lost...);
 * - `UNIMPLEMENTED`: the backend has no grpc.health.v1 service at all.
 * Only `SERVING` lets the backend take calls.
 */
export type HealthStatus =
  'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN' | 'UNREACHABLE' | 'UNIMPLEMENTED';

/** Settings a watcher needs (resolved defaults of the set's options). */
export interface WatcherSettings {
  readonly service: string;
  readonly backoff: BackoffOptions;
  readonly pollIntervalMs: number;
  readonly checkTimeoutMs: number;
}

interface HealthCheckRequest {
  service: string;
}

interface HealthCheckResponse {
  status?: string;
}

type HealthMethod = MethodDefinition<HealthCheckRequest, HealthCheckResponse>;

const KNOWN_ANSWERS = new Set(['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN']);
// grpc-health-check types its messages as `object`; these are the grpc.health.v1 shapes.
const watchMethod = healthService['Watch'] as HealthMethod;
const checkMethod = healthService['Check'] as HealthMethod;

/**
 * Keeps one backend's health status: a `Watch` stream, restarted with backoff when it ends;
 * `Check` polling instead when the backend does not implement `Watch`.
 */
export class HealthWatcher {
  private current: HealthStatus = 'UNKNOWN';
  private answered = false;
  private attempt = 0;
  private closed = false;
  private call?: ClientReadableStream<HealthCheckResponse> | ClientUnaryCall;
  private timer?: NodeJS.Timeout;

  constructor(
    readonly backend: Backend,
    private readonly settings: WatcherSettings,
    private readonly onStatus: (status: HealthStatus, previous: HealthStatus) => void,
  ) {}

  /** The last known status. */
  get status(): HealthStatus {
    return this.current;
  }

  /** True once the backend answered, or failed to, at least once. */
  get settled(): boolean {
    return this.answered;
  }

  /** Opens the first `Watch` stream. */
  start(): void {
    this.watch();
  }

  /** Cancels the health call and the pending timer. Idempotent. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const call = this.call;
    this.call = undefined;
    call?.cancel();
  }

  private watch(): void {
    const client = this.clientOrNull();
    if (client === null) return;
    const call = client.makeServerStreamRequest(...this.request(watchMethod), {});
    this.call = call;
    const startedAt = Date.now();
    let answered = false;
    call.on('data', (response: HealthCheckResponse) => {
      answered = true;
      this.attempt = 0;
      this.report(toHealthStatus(response));
    });
    // Ends are handled on 'status'; without an 'error' listener grpc-js would throw.
    call.on('error', () => undefined);
    call.on('status', (status: StatusObject) => {
      if (this.call !== call || this.closed) return;
      this.call = undefined;
      if (status.code === grpcStatus.UNIMPLEMENTED) this.poll();
      else if (answered && this.livedLongEnough(startedAt)) this.watch();
      else this.retryLater('UNREACHABLE', () => this.watch());
    });
  }

  /**
   * A stream that answered and lived a while ended for a reason of its own (connection cycled
   * by `max_connection_age`, a proxy in between...): watch again at once, keeping the last
   * status, so a healthy backend does not leave the rotation for a backoff period. If the
   * backend is really gone the new call fails at once and marks it unreachable. A stream that
   * ends early is retried with backoff, so a misbehaving server cannot cause a tight loop.
   */
  private livedLongEnough(startedAt: number): boolean {
    return (
      Date.now() - startedAt >= (this.settings.backoff.initialMs ?? DEFAULT_INITIAL_BACKOFF_MS)
    );
  }

  private poll(): void {
    const client = this.clientOrNull();
    if (client === null) return;
    const call = client.makeUnaryRequest(
      ...this.request(checkMethod),
      { deadline: Date.now() + this.settings.checkTimeoutMs },
      (error: ServiceError | null, response?: HealthCheckResponse) => {
        if (this.call !== call || this.closed) return;
        this.call = undefined;
        this.report(error ? checkErrorStatus(error) : toHealthStatus(response ?? {}));
        this.schedule(this.settings.pollIntervalMs, () => this.poll());
      },
    );
    this.call = call;
  }

  /** What `Watch` and `Check` calls start with: the method, its codecs, the request, metadata. */
  private request(method: HealthMethod) {
    const request: HealthCheckRequest = { service: this.settings.service };
    return [
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      new Metadata(),
    ] as const;
  }

  /** The backend may be closed under us; that is "unreachable", retried like a lost stream. */
  private clientOrNull() {
    if (this.closed) return null;
    try {
      return this.backend.client();
    } catch {
      this.retryLater('UNREACHABLE', () => this.watch());
      return null;
    }
  }

  private retryLater(status: HealthStatus, again: () => void): void {
    this.report(status);
    this.schedule(backoffDelay(this.attempt++, this.settings.backoff), again);
  }

  private schedule(delayMs: number, action: () => void): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      action();
    }, delayMs);
  }

  /** Tells the set about a change, and about the first answer even when it is `UNKNOWN`. */
  private report(status: HealthStatus): void {
    const previous = this.current;
    const first = !this.answered;
    this.current = status;
    this.answered = true;
    if (status !== previous || first) this.onStatus(status, previous);
  }
}

function toHealthStatus(response: HealthCheckResponse): HealthStatus {
  const answer = response.status ?? 'UNKNOWN';
  return KNOWN_ANSWERS.has(answer) ? (answer as HealthStatus) : 'UNKNOWN';
}

function checkErrorStatus(error: ServiceError): HealthStatus {
  if (error.code === grpcStatus.NOT_FOUND) return 'SERVICE_UNKNOWN';
  if (error.code === grpcStatus.UNIMPLEMENTED) return 'UNIMPLEMENTED';
  return 'UNREACHABLE';
}
