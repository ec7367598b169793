/**
 * One proxied call: the server side (a grpc-js `ServerDuplexStream` of raw buffers) pumped to and
 * from a raw backend call made on a channel (`Channel.createCall`, the layer under `Client`).
 *
 * Flow control is explicit and bounded on both legs:
 * - client → backend: at most one message in flight to the backend (grpc-js's call layers hold a
 *   single pending write until the stream exists); the next one is read from the server stream
 *   only when the previous write completed. The server stream's readable buffer (16 messages) is
 *   the only queue on this leg. The client's half-close follows at once, even behind a message
 *   still in flight.
 * - backend → client: the next backend message is requested (`startRead`) only while the server
 *   stream's writable side accepts more (`write()` returned true, or after `'drain'`).
 *
 * All per-call callbacks are created once per call; nothing is allocated per message.
 */
import {
  Metadata,
  connectivityState,
  propagate,
  status,
  type ServerDuplexStream,
  type StatusObject,
} from '@grpc/grpc-js';
import type { Route, StreamDirector } from './contracts';
import { IncomingCall } from './incoming-call';
import {
  filterIncomingMetadata,
  filterResponseMetadata,
  finishOutgoingMetadata,
  sanitizeRouteMetadata,
} from './metadata-policy';
import { isLocalStatus } from './local-status';
import type { ResolvedHandlerOptions } from './options';
import {
  BackendUnavailableError,
  resolveBackend,
  type RawChannel,
  type ResolvedBackend,
} from './route-backend';
import { describeError, directorRejection } from './status-error';

/** How near the deadline a client reset counts as the deadline expiring. */
const DEADLINE_SLACK_MS = 100;

type RawCall = ReturnType<RawChannel['createCall']>;
type ServerStream = ServerDuplexStream<Buffer, Buffer>;

function isThenable(value: unknown): value is PromiseLike<Route> {
  return typeof (value as PromiseLike<Route> | null)?.then === 'function';
}

/** True when `channel` failed its last connection attempt (false for a channel that cannot say). */
function inTransientFailure(channel: RawChannel): boolean {
  try {
    return channel.getConnectivityState(false) === connectivityState.TRANSIENT_FAILURE;
  } catch {
    return false;
  }
}

function safely(what: string, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    process.emitWarning(`${what} threw: ${describeError(error)}`, 'GrpcProxyWarning');
  }
}

/** The state of one proxied call; also the grpc-js listener of its backend call. */
export class ProxiedCall {
  private readonly incoming: IncomingCall;
  private backendCall: RawCall | null = null;
  private route: Route | null = null;
  private backendName: string | undefined = undefined;
  private finalStatus: StatusObject | null = null;
  private upInFlight = false;
  private downWaitingDrain = false;
  private backendSentHeaders = false;
  private directorTimer: NodeJS.Timeout | null = null;
  private channel: RawChannel | null = null;
  /** Only set when the call waited for a failed backend channel (epoch ms). */
  private connectDeadline = 0;
  private connectWaitMs = 0;
  private connectWaitExpired = false;
  private readonly upContext = { callback: (): void => this.onUpstreamWritten() };
  // Observer bookkeeping; only touched when an observer is set.
  private startTime = 0;
  private messagesFromClient = 0;
  private messagesToClient = 0;
  private bytesFromClient = 0;
  private bytesToClient = 0;

  constructor(
    private readonly stream: ServerStream,
    private readonly director: StreamDirector,
    private readonly options: ResolvedHandlerOptions,
  ) {
    const getHost = (stream as Partial<{ getHost(): string }>).getHost;
    this.incoming = new IncomingCall(
      stream.getPath(),
      filterIncomingMetadata(stream.metadata, options.policy),
      stream.getPeer(),
      typeof getHost === 'function' ? getHost.call(stream) : '',
      stream.getDeadline(),
    );
  }

  start(): void {
    const observer = this.options.observer;
    if (observer !== undefined) {
      this.startTime = performance.now();
      if (observer.onCallStart) {
        const info = {
          method: this.incoming.method,
          peer: this.incoming.peer,
          startTime: this.startTime,
        };
        safely('observer.onCallStart', () => observer.onCallStart?.(info));
      }
    }
    this.stream.on('cancelled', this.onServerCallClosed);
    let result: Route | PromiseLike<Route>;
    try {
      result = this.director(this.incoming);
    } catch (error) {
      this.onDirectorError(error);
      return;
    }
    if (isThenable(result)) {
      if (this.options.directorTimeoutMs !== Infinity) {
        this.directorTimer = setTimeout(this.onDirectorTimeout, this.options.directorTimeoutMs);
      }
      result.then(this.onRoute, this.onDirectorError);
    } else {
      this.onRoute(result);
    }
  }

  // ---- director outcome -------------------------------------------------------------------

  private readonly onRoute = (route: Route): void => {
    this.clearDirectorTimer();
    if (this.finalStatus !== null) {
      // The client left (or the director timed out) before the route arrived.
      if (route && typeof route.release === 'function')
        safely('route.release', () => route.release?.(this.finalStatus!));
      return;
    }
    if (route === null || typeof route !== 'object') {
      this.fail(status.INTERNAL, `director returned no route (${String(route)})`);
      return;
    }
    this.route = route;
    this.startBackendCall(route);
  };

  private readonly onDirectorError = (error: unknown): void => {
    this.clearDirectorTimer();
    if (this.finalStatus !== null) return;
    const rejection = directorRejection(error);
    if (rejection !== null) {
      this.finish(rejection, true);
    } else {
      this.fail(status.INTERNAL, `director failed: ${describeError(error)}`);
    }
  };

  private readonly onDirectorTimeout = (): void => {
    this.directorTimer = null;
    this.fail(
      status.UNAVAILABLE,
      `director chose no backend within ${this.options.directorTimeoutMs} ms`,
    );
  };

  private clearDirectorTimer(): void {
    if (this.directorTimer !== null) {
      clearTimeout(this.directorTimer);
      this.directorTimer = null;
    }
  }

  // ---- backend call -----------------------------------------------------------------------

  private startBackendCall(route: Route): void {
    let backend: ResolvedBackend;
    try {
      backend = resolveBackend(route.backend);
    } catch (error) {
      // A backend that cannot give a client (closed pool, ...) is unavailable; a route that is
      // no backend is a director bug.
      if (error instanceof BackendUnavailableError) {
        this.backendName = error.backendName;
        this.fail(status.UNAVAILABLE, error.message);
      } else {
        this.fail(status.INTERNAL, `director returned an invalid route: ${describeError(error)}`);
      }
      return;
    }
    this.backendName = backend.name;
    this.channel = backend.channel;
    if (this.options.backendConnectTimeoutMs > 0 && inTransientFailure(backend.channel)) {
      this.awaitConnection(route);
    } else {
      this.openBackendCall(route);
    }
  }

  /**
   * The backend channel failed its last connection attempt: grpc-js would fail the call at once
   * on the strength of it, even if the backend is back by now. Wait (bounded) for the channel's
   * next attempt to succeed. The client's messages stay unread meanwhile (backpressure).
   */
  private awaitConnection(route: Route): void {
    const now = Date.now();
    this.connectDeadline = Math.min(
      now + this.options.backendConnectTimeoutMs,
      +this.incoming.deadline,
      +(route.callOptions?.deadline ?? Infinity),
    );
    this.connectWaitMs = Math.max(0, Math.round(this.connectDeadline - now));
    // grpc-js keeps a watcher until the state changes or its deadline passes (it has no way to
    // remove one): a client that leaves meanwhile leaves it for at most that long.
    this.watchChannel(connectivityState.TRANSIENT_FAILURE);
  }

  private watchChannel(from: connectivityState): void {
    try {
      this.channel!.watchConnectivityState(from, this.connectDeadline, this.onChannelStateChange);
    } catch {
      // Shut down meanwhile: createCall says so.
      this.openBackendCall(this.route!);
    }
  }

  /** grpc-js connectivity watcher: a state change, or the deadline (`error`). */
  private readonly onChannelStateChange = (error?: Error): void => {
    // The client left (or its deadline passed) while we waited: nothing to open.
    if (this.finalStatus !== null) return;
    const channel = this.channel!;
    const state = channel.getConnectivityState(false);
    if (state === connectivityState.READY || state === connectivityState.SHUTDOWN) {
      this.openBackendCall(this.route!);
      return;
    }
    if (error === undefined) {
      // Between attempts (CONNECTING, IDLE, TRANSIENT_FAILURE again): keep waiting.
      if (state === connectivityState.IDLE) channel.getConnectivityState(true);
      this.watchChannel(state);
      return;
    }
    this.connectWaitExpired = true;
    if (state === connectivityState.TRANSIENT_FAILURE) {
      // grpc-js fails the call at once, with the last connection error as its message.
      this.openBackendCall(this.route!);
    } else {
      this.fail(
        status.UNAVAILABLE,
        `backend ${this.backendName} unavailable: not connected within ${this.connectWaitMs} ms (channel ${connectivityState[state]})`,
      );
    }
  };

  private openBackendCall(route: Route): void {
    const channel = this.channel!;
    let call: RawCall;
    try {
      const metadata = route.metadata
        ? sanitizeRouteMetadata(route.metadata)
        : finishOutgoingMetadata(this.incoming.metadata, this.options.policy, this.incoming);
      const callOptions = route.callOptions;
      call = channel.createCall(
        this.incoming.method,
        callOptions?.deadline ?? Infinity,
        callOptions?.host,
        this.stream,
        callOptions?.propagate_flags ?? propagate.DEFAULTS,
      );
      if (callOptions?.credentials) call.setCredentials(callOptions.credentials);
      this.backendCall = call;
      call.start(metadata, this);
    } catch (error) {
      if (error instanceof TypeError) {
        // grpc-js rejects the route's call options (a deadline that is no date, ...).
        this.fail(status.INTERNAL, `director returned an invalid route: ${describeError(error)}`);
      } else {
        // e.g. "Channel has been shut down": a closed Client or Channel.
        this.fail(
          status.UNAVAILABLE,
          `backend ${this.backendName} unavailable: ${describeError(error)}`,
        );
      }
      return;
    }
    call.startRead();
    const stream = this.stream;
    stream.on('readable', this.pumpUpstream);
    stream.on('end', this.onClientHalfClose);
    stream.on('drain', this.onClientDrained);
    this.pumpUpstream();
  }

  /** grpc-js listener: response headers from the backend. */
  onReceiveMetadata(metadata: Metadata): void {
    this.backendSentHeaders = true;
    if (this.finalStatus !== null) return;
    this.stream.sendMetadata(filterResponseMetadata(metadata, this.options.policy));
  }

  /** grpc-js listener: one message from the backend. */
  onReceiveMessage(message: Buffer): void {
    if (this.finalStatus !== null) return;
    if (message.length > this.options.maxSendMessageLength) {
      this.fail(
        status.RESOURCE_EXHAUSTED,
        `message from backend ${this.backendName} is ${message.length} bytes, more than maxSendMessageLength (${this.options.maxSendMessageLength})`,
      );
      return;
    }
    if (this.options.observer !== undefined) {
      this.messagesToClient++;
      this.bytesToClient += message.length;
    }
    if (this.stream.write(message)) {
      this.backendCall!.startRead();
    } else {
      this.downWaitingDrain = true;
    }
  }

  /** grpc-js listener: the backend call ended. */
  onReceiveStatus(backendStatus: StatusObject): void {
    if (this.finalStatus !== null) return;
    const metadata = backendStatus.metadata ?? new Metadata();
    // A status grpc-js made up (connection refused or dropped, stream reset, no trailers, ...) is
    // the proxy's own failure, and says so; the backend's own statuses pass unchanged.
    if (isLocalStatus(backendStatus, this.backendSentHeaders)) {
      const reason = backendStatus.code === status.UNAVAILABLE ? 'unavailable' : 'failed';
      const waited = this.connectWaitExpired
        ? `not connected within ${this.connectWaitMs} ms: `
        : '';
      this.finish(
        {
          code: backendStatus.code,
          details: `${this.options.proxyName}: backend ${this.backendName} ${reason}: ${waited}${backendStatus.details}`,
          metadata,
        },
        true,
      );
      return;
    }
    filterResponseMetadata(metadata, this.options.policy);
    this.finish({ code: backendStatus.code, details: backendStatus.details, metadata }, false);
  }

  // ---- client side ------------------------------------------------------------------------

  private readonly pumpUpstream = (): void => {
    if (this.finalStatus !== null) return;
    if (this.upInFlight) {
      // No message may be taken now, but a client half-close already queued behind the one in
      // flight is noticed ('end'), so that it follows that message at once (for a unary call,
      // in the same flush) instead of a turn of the event loop later.
      if (this.stream.readableLength === 0) this.stream.read(0);
      return;
    }
    const message = this.stream.read() as Buffer | null;
    if (message === null) return;
    if (message.length > this.options.maxReceiveMessageLength) {
      this.fail(
        status.RESOURCE_EXHAUSTED,
        `message from client is ${message.length} bytes, more than maxReceiveMessageLength (${this.options.maxReceiveMessageLength})`,
      );
      return;
    }
    if (this.options.observer !== undefined) {
      this.messagesFromClient++;
      this.bytesFromClient += message.length;
    }
    this.upInFlight = true;
    this.backendCall!.sendMessageWithContext(this.upContext, message);
  };

  private onUpstreamWritten(): void {
    this.upInFlight = false;
    this.pumpUpstream();
  }

  /**
   * Passed on at once, even with a message in flight: every grpc-js call layer queues the
   * half-close behind a pending message (grpc-js's own unary client does the same).
   */
  private readonly onClientHalfClose = (): void => {
    if (this.finalStatus !== null) return;
    this.backendCall!.halfClose();
  };

  private readonly onClientDrained = (): void => {
    if (!this.downWaitingDrain || this.finalStatus !== null) return;
    this.downWaitingDrain = false;
    this.backendCall!.startRead();
  };

  /**
   * grpc-js emits `cancelled` whenever the server call closes — also right after a status we
   * sent. Only a close before our status means the client left (cancel, deadline, lost
   * connection, or grpc-js ended the call itself, e.g. for an oversized message).
   */
  private readonly onServerCallClosed = (): void => {
    if (this.finalStatus !== null) return;
    const deadline = this.incoming.deadline;
    // The client's own deadline timer resets the stream at about the same moment as ours fires
    // (ours started when the headers arrived, so it is a little late): a close this near the
    // deadline is the deadline, not a cancellation.
    const expired = deadline !== Infinity && +deadline - Date.now() <= DEADLINE_SLACK_MS;
    this.finalStatus = expired
      ? { code: status.DEADLINE_EXCEEDED, details: 'Deadline exceeded', metadata: new Metadata() }
      : { code: status.CANCELLED, details: 'Cancelled by client', metadata: new Metadata() };
    this.clearDirectorTimer();
    this.incoming.clientGone();
    this.backendCall?.cancelWithStatus(
      status.CANCELLED,
      `${this.options.proxyName}: client went away`,
    );
    this.report(false);
  };

  // ---- ending -------------------------------------------------------------------------------

  /** Ends the call with a failure of the proxy itself; the message names the proxy. */
  private fail(code: status, details: string): void {
    if (this.finalStatus !== null) return;
    const message = `${this.options.proxyName}: ${details}`;
    this.backendCall?.cancelWithStatus(status.CANCELLED, message);
    this.finish({ code, details: message, metadata: new Metadata() }, true);
  }

  /** Sends `finalStatus` to the client once pending messages are written. */
  private finish(final: StatusObject, proxyError: boolean): void {
    if (this.finalStatus !== null) return;
    this.finalStatus = final;
    this.clearDirectorTimer();
    // A director still at work (timed out) has nothing left to decide.
    if (this.route === null) this.incoming.clientGone();
    // The documented way to end a grpc-js server stream with a status: 'error' sets the pending
    // status and ends the writable side, so the status follows the messages already queued.
    this.stream.emit('error', {
      code: final.code,
      details: final.details,
      message: final.details,
      metadata: final.metadata,
    });
    this.report(proxyError);
  }

  private report(proxyError: boolean): void {
    const final = this.finalStatus!;
    const route = this.route;
    if (route !== null && typeof route.release === 'function')
      safely('route.release', () => route.release?.(final));
    const observer = this.options.observer;
    if (observer?.onCallEnd === undefined) return;
    const report = {
      method: this.incoming.method,
      peer: this.incoming.peer,
      startTime: this.startTime,
      backend: this.backendName,
      code: final.code,
      details: final.details,
      proxyError,
      durationMs: performance.now() - this.startTime,
      messagesFromClient: this.messagesFromClient,
      messagesToClient: this.messagesToClient,
      bytesFromClient: this.bytesFromClient,
      bytesToClient: this.bytesToClient,
    };
    safely('observer.onCallEnd', () => observer.onCallEnd?.(report));
  }
}
