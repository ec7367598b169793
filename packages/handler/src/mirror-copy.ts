/**
 * One mirrored copy of a call (`Route.mirror`) on the grpc-js engine: a raw bidi call on the
 * mirror backend that gets the client's messages, whose replies are read and dropped, and whose
 * end is reported once to `CallObserver.onMirrorEnd`.
 *
 * The copy never makes the call wait. grpc-js's call layers hold a single pending write until the
 * stream exists, so the copy keeps its own queue (by reference) and hands grpc-js one message at
 * a time; the bytes handed to the copy and not yet acknowledged by grpc-js's write callback (the
 * queue plus the message in flight) are its budget, {@link MIRROR_BUFFER_BYTES}: past it the copy
 * is cancelled (`dropped`).
 */
import { propagate, status, type Deadline, type Metadata, type StatusObject } from '@grpc/grpc-js';
import type { Backend, MirrorReport, MirrorRoute } from './contracts';
import { isLocalStatus } from './local-status';
import { MIRROR_BUFFER_BYTES } from './mirror-routes';
import { cancelRawCall, resolveBackend, type RawCall } from './route-backend';
import { describeError } from './status-error';

/** What a copy needs of its call. */
export interface MirrorSource {
  readonly method: string;
  readonly deadline: Deadline;
}

/** A mirror backend that says it is out of rotation. */
function outOfRotation(backend: MirrorRoute['backend']): Backend | undefined {
  const candidate = backend as Partial<Backend> | null;
  if (typeof candidate?.client !== 'function' || typeof candidate.isAvailable !== 'function') {
    return undefined;
  }
  return candidate.isAvailable() === false ? (candidate as Backend) : undefined;
}

/** One copy of a call on one mirror backend. */
export class MirrorCopy {
  private call: RawCall | undefined = undefined;
  private name = '';
  /** Messages waiting for the one in flight, from `queueHead` on. */
  private queue: Buffer[] = [];
  private queueHead = 0;
  private inFlight = false;
  /** Bytes handed to the copy that grpc-js has not acknowledged yet (queue + in flight). */
  private unacknowledged = 0;
  private inFlightBytes = 0;
  /** The client half-closed; sent on once the queue is empty. */
  private halfClosePending = false;
  private answered = false;
  /** True once reported: nothing more is done. */
  done = false;
  private readonly writeContext = { callback: (): void => this.onWritten() };

  constructor(
    private readonly mirror: MirrorRoute,
    private readonly source: MirrorSource,
    private readonly onEnd: (copy: MirrorCopy, report: MirrorReport) => void,
  ) {}

  /** Opens the copy's call with `metadata` (already marked); may end it at once (`failed`). */
  start(metadata: Metadata): void {
    const out = outOfRotation(this.mirror.backend);
    if (out !== undefined) {
      // Passive health knows it is down: no connect wait, no call.
      this.name = String(out.name);
      const reason = out.connectionError?.message ?? 'out of rotation';
      this.end('failed', status.UNAVAILABLE, `mirror ${this.name} unavailable: ${reason}`);
      return;
    }
    try {
      const backend = resolveBackend(this.mirror.backend);
      this.name = backend.name;
      // No parent: the copy may outlive the call (mirrorTimeoutMs); the deadline is the call's.
      const call = backend.channel.createCall(
        this.source.method,
        this.source.deadline,
        undefined,
        null,
        propagate.DEFAULTS,
      );
      this.call = call;
      call.start(metadata, this);
      call.startRead();
    } catch (error) {
      this.name ||= describeBackend(this.mirror.backend);
      this.call = undefined;
      this.end('failed', status.UNAVAILABLE, `mirror ${this.name} failed: ${describeError(error)}`);
    }
  }

  /** A client message for the mirror (never waits). */
  write(message: Buffer): void {
    if (this.done) return;
    this.unacknowledged += message.length;
    if (this.unacknowledged > MIRROR_BUFFER_BYTES) {
      this.drop(
        `mirror ${this.name} fell behind: more than ${MIRROR_BUFFER_BYTES} bytes not taken`,
      );
    } else if (this.inFlight) {
      this.queue.push(message);
    } else {
      this.send(message);
    }
  }

  /** The client half-closed (or the call ended): follows the messages still queued. */
  halfClose(): void {
    if (this.done || this.halfClosePending) return;
    this.halfClosePending = true;
    // grpc-js queues a half-close behind a pending message: only the copy's own queue waits.
    if (this.queueHead === this.queue.length) this.call!.halfClose();
  }

  /** Cancels the copy (`dropped`, with `details`) unless it already ended. */
  drop(details: string): void {
    if (this.done) return;
    this.end('dropped', status.CANCELLED, details);
    if (this.call !== undefined) cancelRawCall(this.call, status.CANCELLED, details);
  }

  /** grpc-js listener: the mirror answered; its headers are dropped. */
  onReceiveMetadata(): void {
    this.answered = true;
  }

  /** grpc-js listener: a reply, dropped. */
  onReceiveMessage(): void {
    if (!this.done) this.call!.startRead();
  }

  /** grpc-js listener: the copy's outcome. */
  onReceiveStatus(copyStatus: StatusObject): void {
    if (this.done) return;
    // A status grpc-js made up (no connection, reset, ...) means the mirror never answered it.
    if (isLocalStatus(copyStatus, this.answered)) {
      this.end('failed', copyStatus.code, `mirror ${this.name} failed: ${copyStatus.details}`);
    } else {
      this.end('completed', copyStatus.code, copyStatus.details);
    }
  }

  private send(message: Buffer): void {
    this.inFlight = true;
    this.inFlightBytes = message.length;
    this.call!.sendMessageWithContext(this.writeContext, message);
  }

  private onWritten(): void {
    if (this.done) return;
    this.inFlight = false;
    this.unacknowledged -= this.inFlightBytes;
    const queue = this.queue;
    if (this.queueHead === queue.length) return;
    const next = queue[this.queueHead++];
    const last = this.queueHead === queue.length;
    if (last) {
      this.queue = [];
      this.queueHead = 0;
    }
    this.send(next);
    if (last && this.halfClosePending) this.call!.halfClose();
  }

  private end(outcome: MirrorReport['outcome'], code: status, details: string): void {
    this.done = true;
    this.queue = [];
    this.queueHead = 0;
    this.onEnd(this, { method: this.source.method, backend: this.name, outcome, code, details });
  }
}

function describeBackend(backend: MirrorRoute['backend']): string {
  const named = backend as { name?: unknown } | null;
  return typeof named?.name === 'string' ? named.name : 'invalid';
}
