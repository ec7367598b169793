/**
 * Mirror (`Route.mirror`): a copy of a call sent to each sampled mirror backend. Each copy is a
 * stream of its own through the session pool, with the request headers the primary got plus the
 * mirror header, every client chunk written by reference, its replies read and dropped.
 *
 * A copy never touches the primary: nothing waits on its 'drain'. What it has not taken yet
 * (`writableLength`: written, not yet taken by its HTTP/2 stream, which holds back what the
 * mirror's flow-control window refuses) is bounded by `MIRROR_BUFFER_BYTES`; past it, the copy is
 * reset (CANCEL) and reported `dropped`. A copy that cannot open or whose stream fails is
 * `failed` (no connect wait, no retry); one still running `mirrorTimeoutMs` after its call ended
 * is `dropped`; so is one still running when the proxy closes (`dropMirrorsOf(pool)`, before the
 * pool closes), so close leaves no copy stream nor timer behind. Each copy is reported once
 * (`CallObserver.onMirrorEnd`).
 */
import { constants, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { status } from '@grpc/grpc-js';
import { MIRROR_BUFFER_BYTES, type MirrorReport, type MirrorRoute } from '@grpc-proxy/handler';
import { safely, type CompiledMetadataPolicy } from '@grpc-proxy/handler/engine';
import type { CallObserver, RouteBackend } from '@grpc-proxy/handler';
import type { BackendRequest } from './backend-request';
import { resolveTarget } from './backend-target';
import { formatGrpcTimeout } from './grpc-timeout';
import { backendRequestHeaders, trailerCode, trailerMessage } from './headers';
import type { SessionPool } from './session-pool';

/** What the copies of one call need of the proxy (its call context). */
export interface MirrorSetup {
  readonly pool: SessionPool;
  readonly options: {
    readonly policy: CompiledMetadataPolicy;
    readonly mirrorHeader: string;
    readonly mirrorTimeoutMs: number;
    readonly observer?: CallObserver;
  };
}

/** No mirror: what a call has before its route is sampled. */
export const NO_MIRRORS: readonly MirrorRoute[] = [];

type Outcome = MirrorReport['outcome'];

const MIRROR = Symbol('mirror');
type Mirrored = ClientHttp2Stream & { [MIRROR]?: MirrorCopy };

// Shared listeners (no closure per copy): each finds its copy on the stream.
function onResponse(this: Mirrored, headers: IncomingHttpHeaders): void {
  // A trailers-only answer carries the status in its headers.
  if (headers['grpc-status'] !== undefined) this[MIRROR]?.statusHeard(headers);
}
function onTrailers(this: Mirrored, trailers: IncomingHttpHeaders): void {
  this[MIRROR]?.statusHeard(trailers);
}
function onError(this: Mirrored, error: Error): void {
  this[MIRROR]?.errored(error);
}
function onClose(this: Mirrored): void {
  this[MIRROR]?.closed();
}

/** One copy of a call on one mirror backend. */
class MirrorCopy {
  private stream: ClientHttp2Stream | undefined = undefined;
  private reported = false;
  private name = 'mirror';
  private code: status = status.UNKNOWN;
  private details = '';
  private answered = false;
  private error: Error | undefined = undefined;

  constructor(
    private readonly owner: Mirrors,
    private readonly method: string,
  ) {}

  /** Opens the copy's stream at once: no connect wait (a target in backoff fails it). */
  open(backend: RouteBackend, call: BackendRequest, setup: MirrorSetup): void {
    let stream: ClientHttp2Stream;
    try {
      this.name = nameOf(backend);
      const target = resolveTarget(backend);
      this.name = target.name;
      const pooled = setup.pool.get(target.target, target.tls);
      const { route, incoming, deadlineMs } = call;
      const headers = backendRequestHeaders(
        route,
        incoming,
        setup.options.policy,
        pooled.authority,
      );
      headers[setup.options.mirrorHeader] = '1';
      if (deadlineMs !== Infinity) {
        headers['grpc-timeout'] = formatGrpcTimeout(deadlineMs - Date.now());
      }
      stream = pooled.request(headers);
    } catch (error) {
      const details = `mirror ${this.name} unavailable: ${messageOf(error)}`;
      this.report('failed', status.UNAVAILABLE, details);
      return;
    }
    this.stream = stream;
    (stream as Mirrored)[MIRROR] = this;
    stream.on('response', onResponse);
    stream.on('trailers', onTrailers);
    stream.on('error', onError);
    stream.on('close', onClose);
    stream.resume(); // its messages are read and dropped
  }

  /** Whether the copy still runs. */
  get running(): boolean {
    return !this.reported;
  }

  write(chunk: Buffer): void {
    const stream = this.stream;
    if (this.reported || stream === undefined || stream.writableEnded) return;
    stream.write(chunk);
    if (stream.writableLength > MIRROR_BUFFER_BYTES) {
      this.drop(`mirror ${this.name} fell behind by more than ${MIRROR_BUFFER_BYTES} bytes`);
    }
  }

  end(): void {
    const stream = this.stream;
    if (!this.reported && stream !== undefined && !stream.writableEnded) stream.end();
  }

  /** Cancelled by the proxy: reset (CANCEL), reported `dropped`. */
  drop(details: string): void {
    if (this.reported) return;
    this.report('dropped', status.CANCELLED, details);
    this.stream?.close(constants.NGHTTP2_CANCEL);
  }

  statusHeard(block: IncomingHttpHeaders): void {
    this.answered = true;
    this.code = trailerCode(block);
    this.details = trailerMessage(block);
  }

  errored(error: Error): void {
    this.error ??= error;
  }

  closed(): void {
    if (this.reported) return;
    if (this.answered) {
      this.report('completed', this.code, this.details);
      return;
    }
    const rstCode = this.stream?.rstCode ?? 0;
    const why = this.error?.message ?? `stream closed with code ${rstCode} before its status`;
    this.report('failed', status.UNAVAILABLE, `mirror ${this.name} failed: ${why}`);
  }

  private report(outcome: Outcome, code: status, details: string): void {
    this.reported = true;
    this.owner.copyOver();
    const observer = this.owner.setup.options.observer;
    if (observer?.onMirrorEnd === undefined) return;
    const report: MirrorReport = {
      method: this.method,
      backend: this.name,
      outcome,
      code,
      details,
    };
    safely('observer.onMirrorEnd', () => observer.onMirrorEnd!(report));
  }
}

function nameOf(backend: RouteBackend): string {
  const { name, target } = (backend ?? {}) as { name?: unknown; target?: unknown };
  return typeof name === 'string' ? name : typeof target === 'string' ? target : 'mirror';
}

function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

function dropLate(copies: Mirrors): void {
  copies.timedOut();
}

/** The calls' copies still running, per pool: what closing the proxy drops. */
const runningOf = new WeakMap<SessionPool, Set<Mirrors>>();

/** What a copy dropped by the proxy's close reports. */
export const MIRROR_SHUTDOWN_DETAILS = 'mirror dropped: the proxy is shutting down';

/**
 * Drops every copy still running on `pool` (reported `dropped`, {@link MIRROR_SHUTDOWN_DETAILS}):
 * the proxy's close calls it before closing the pool, so a copy inside its `mirrorTimeoutMs`
 * window does not keep a pool session open (nor its timer running) after close.
 */
export function dropMirrorsOf(pool: SessionPool): void {
  const running = runningOf.get(pool);
  if (running === undefined) return;
  for (const copies of [...running]) copies.shutDown();
}

/** The copies of one call; fed by its forwarding, told when the call ends. */
export class Mirrors {
  private readonly copies: MirrorCopy[] = [];
  private timer: NodeJS.Timeout | undefined = undefined;

  /** Opens a copy of `primary`'s request on each of `mirrors` (sampled from its route). */
  constructor(
    readonly setup: MirrorSetup,
    primary: BackendRequest,
    mirrors: readonly MirrorRoute[],
  ) {
    const method = String(primary.incoming.headers[':path']);
    for (const mirror of mirrors) {
      const copy = new MirrorCopy(this, method);
      this.copies.push(copy);
      copy.open(mirror.backend, primary, setup);
    }
    if (!this.copies.some((copy) => copy.running)) return;
    let running = runningOf.get(setup.pool);
    if (running === undefined) runningOf.set(setup.pool, (running = new Set()));
    running.add(this);
  }

  /** A client chunk: the same buffer to every copy. */
  write(chunk: Buffer): void {
    for (const copy of this.copies) copy.write(chunk);
  }

  /** The client half-closed. */
  end(): void {
    for (const copy of this.copies) copy.end();
  }

  /**
   * The call ended: `cancelled` (the client left, or the proxy ended it), the copies are
   * dropped; else they are half-closed and may run on for `mirrorTimeoutMs`.
   */
  callEnded(cancelled: boolean): void {
    if (cancelled) {
      this.dropAll('call cancelled');
      return;
    }
    this.end();
    if (!this.copies.some((copy) => copy.running)) return;
    if (this.setup.options.mirrorTimeoutMs === 0) {
      this.timedOut();
      return;
    }
    this.timer = setTimeout(dropLate, this.setup.options.mirrorTimeoutMs, this);
    this.timer.unref();
  }

  timedOut(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const ms = this.setup.options.mirrorTimeoutMs;
    this.dropAll(`mirror still running ${ms} ms after the call ended`);
  }

  /** The proxy closes: every copy still running is dropped. */
  shutDown(): void {
    this.dropAll(MIRROR_SHUTDOWN_DETAILS);
  }

  /** A copy is over: once none runs, the timer (if any) goes, and so does the pool's entry. */
  copyOver(): void {
    if (this.copies.some((copy) => copy.running)) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    runningOf.get(this.setup.pool)?.delete(this);
  }

  private dropAll(details: string): void {
    for (const copy of this.copies) copy.drop(details);
  }
}
