/**
 * The contracts between the proxy engine, directors, backends and observers.
 *
 * Kept free of grpc-js runtime imports (types only) so that a second engine (for example one on
 * `node:http2`) can share directors, metadata policy and observers.
 */
import type {
  CallOptions,
  ChannelInterface,
  Client,
  Deadline,
  Metadata,
  status,
  StatusObject,
} from '@grpc/grpc-js';

/** What a director may look at to pick a backend for one call. */
export interface ProxyCall {
  /** Full method name, `/pkg.Service/Method`. */
  readonly method: string;
  /** Service part of the method name, `pkg.Service` (empty when the path is malformed). */
  readonly service: string;
  /**
   * A copy of the incoming request metadata, after the hop-by-hop filter of the metadata policy
   * and before routing keys are stripped. The director may read or change it; changes are
   * forwarded unless the route gives its own `metadata`.
   */
  readonly metadata: Metadata;
  /** The client's address as grpc-js reports it, e.g. `ipv4:127.0.0.1:53412`. */
  readonly peer: string;
  /** The `:authority` the client called. */
  readonly authority: string;
  /** The call's deadline (`Infinity` when the client set none). */
  readonly deadline: Deadline;
  /**
   * Aborted when the client goes away (cancel, deadline, connection lost), or when the call ends
   * before the director chose a route (`directorTimeoutMs`).
   */
  readonly signal: AbortSignal;
  /**
   * Peek: the first request message's payload, uncompressed, for a director that routes on what
   * the request says (a tenant or shard id). Read once, on the first call of this method, under
   * the receive size limit and the call's deadline; the engine then forwards that message,
   * unchanged (compressed if it came compressed), to the chosen backend before the rest of the
   * stream. Resolves `null` when the client half-closes without sending a message. Rejects with a
   * `ProxyStatusError` carrying the status the call ends with when it ends first (client cancel,
   * deadline, a message over the limit), so a director awaiting it never hangs; a director
   * rethrowing it gives the client that status. A director that never calls it costs nothing.
   */
  firstMessage(): Promise<Buffer | null>;
}

/**
 * TLS towards a backend as PEM, a form every engine can use: the grpc-js engine gets it as
 * channel credentials (`createBackend` converts it), the `node:http2` engine passes it to
 * `tls.connect` (ALPN `h2`).
 */
export interface BackendTls {
  /** CA certificates (PEM) the backend's certificate must chain to. Default: Node's root CAs. */
  readonly ca?: string | Buffer;
  /** Client certificate chain (PEM), for mutual TLS; with `key`. Default: none. */
  readonly cert?: string | Buffer;
  /** The client certificate's private key (PEM). Default: none. */
  readonly key?: string | Buffer;
  /**
   * Name the backend's certificate must carry, also sent as SNI. Default: the target's host.
   */
  readonly serverName?: string;
}

/**
 * An upstream that owns its connection, such as those of `@grpc-proxy/director`'s
 * `createBackend`. The engine only needs a name and a grpc-js client to make raw calls on.
 */
export interface Backend {
  /** Name used in logs, metrics and error messages (default in the director package: the target). */
  readonly name: string;
  /**
   * Where an engine that opens its own HTTP/2 connections (`@grpc-proxy/http2`) sends the
   * backend's calls: `host:port`, `[v6]:port`, `dns:host:port` or `unix:/path`. The grpc-js engine
   * ignores it and uses {@link Backend.client}. `createBackend` sets it. Default: none (the backend
   * then works with the grpc-js engine only).
   */
  readonly target?: string;
  /**
   * TLS towards `target` for engines that open their own connections; the grpc-js engine uses
   * the credentials of {@link Backend.client}'s channel instead. Default: none (plaintext h2c).
   */
  readonly tls?: BackendTls;
  /**
   * The grpc-js client raw calls are made on; created lazily and shared by all calls. May throw
   * when the backend is closed: the call then ends with `UNAVAILABLE`
   * `grpc-proxy: backend <name> unavailable: <message>`.
   */
  client(): Client;
  /**
   * False while the backend should get no calls: it is closed, or (passive health) its
   * connections fail and no probe has connected since. Directors skip it (`roundRobin`,
   * `healthChecked`); an engine routed to it anyway fails the attempt at once with `UNAVAILABLE`
   * (no connect wait), which counts as not processed (see {@link CallReport.retries}).
   * Default: always available.
   */
  isAvailable?(): boolean;
  /**
   * Why {@link Backend.isAvailable} says false, for the `UNAVAILABLE` message: the last
   * connection error while out of rotation. Default: none.
   */
  readonly connectionError?: Error;
  /** True once the backend is closed: engines stop probing it. Default: false. */
  readonly closed?: boolean;
  /**
   * Passive health input from engines that open their own connections (`@grpc-proxy/http2`):
   * called after each connection attempt to {@link Backend.target} with `undefined` when it
   * connected, or the error when it failed. `createBackend` takes the backend out of rotation on
   * a failure and back on a success; while it is out, the engine keeps probing it (connection
   * attempts with capped backoff). Default: none (the grpc-js engine's backends watch their own
   * channel instead).
   */
  reportConnection?(error: Error | undefined): void;
}

/**
 * A backend given only by its address, for the `node:http2` engine (`@grpc-proxy/http2`), which
 * opens its own connections. The grpc-js engine rejects it (`INTERNAL`, an invalid route): it
 * needs a {@link Backend} with `client()`, or a grpc-js `Client` or `Channel`.
 */
export interface BackendAddress {
  /** Name used in logs, metrics and error messages. Default: the target. */
  readonly name?: string;
  /** `host:port`, `[v6]:port`, `dns:host:port` or `unix:/path`. */
  readonly target: string;
  /** TLS towards the target. Default: none (plaintext h2c). */
  readonly tls?: BackendTls;
}

/**
 * Where a route may send a call: a backend object, or a grpc-js `Client` or `Channel` as in Go
 * (any implementation of grpc-js's `Channel` interface, such as `client.getChannel()`), or, for
 * the `node:http2` engine, a {@link BackendAddress}; or several of those at once, a
 * {@link FanOutBackend}.
 */
export type RouteBackend = Backend | Client | ChannelInterface | BackendAddress | FanOutBackend;

/** One of the backends of a fan-out: any {@link RouteBackend} but another fan-out. */
export type FanOutMember = Backend | Client | ChannelInterface | BackendAddress;

/**
 * Fan-out: one call sent to every backend of a set at once (made by `fanOut` of
 * `@grpc-proxy/director`, or by hand). Every client message goes to every backend, and the
 * client's half-close too; the next client message is read only once every backend took the
 * previous one, so backpressure follows the slowest backend. Cancelling the call (client cancel,
 * deadline, the proxy failing it) cancels every backend call. Each backend call gets the
 * route's metadata and the call's deadline. A fan-out call is never retried transparently (a
 * backend that did not process it is a failure like any other, by {@link FanOut.onError}).
 *
 * Responses, by {@link FanOut.responses}:
 * - `'stream'` (server-streaming and bidi methods): every backend message goes to the client as
 *   it arrives, interleaved; the next message of a backend is read only while the client takes
 *   them (backpressure follows the client).
 * - `'merge'` (unary and client-streaming methods, whose client expects exactly one message):
 *   the messages of all backends are held until every backend ended, then sent as one message:
 *   {@link FanOut.merge} of them, by default their concatenation in the order of
 *   {@link FanOut.backends} — for protobuf a merge (repeated fields append, scalars: the last
 *   backend's non-default value wins). A merged message over the send size limit ends the call
 *   `RESOURCE_EXHAUSTED`.
 *
 * Headers and status: the first response headers to arrive are the client's (the others are
 * dropped). The call ends `OK` when every backend ended `OK`, with the trailers of all
 * backends (in backend order, values appended); otherwise by {@link FanOut.onError}.
 */
export interface FanOutBackend {
  /** Name in logs, metrics and {@link CallReport.backend}, e.g. `fan-out(a,b)`. */
  readonly name: string;
  /** The backends and the rules of the fan-out. */
  readonly fanOut: FanOut;
}

/** The backends of a {@link FanOutBackend} and how their answers become the client's. */
export interface FanOut {
  /** Where the call goes: at least one backend (the same forms as `Route.backend`, no fan-out). */
  readonly backends: readonly FanOutMember[];
  /**
   * `'stream'`: backend messages go to the client as they arrive (server-streaming and bidi
   * methods); `'merge'`: they are combined into one message once all backends ended (unary and
   * client-streaming methods). Required: on the wire a unary call looks like a server-streaming
   * one, so only the director knows.
   */
  readonly responses: 'stream' | 'merge';
  /**
   * What a backend that ends with a status other than `OK` does to the call:
   * - `'first-error'` (default): the first failure ends the call with that backend's status
   *   (code, message and trailers, unchanged), and the other backend calls are cancelled;
   * - `'skip'`: failed backends are left out; the call ends `OK` with what the others sent;
   * - a function: called once per failed backend; the message it returns is sent in that
   *   backend's place (in `'merge'` mode: merged at its position), `null` leaves it out. If it
   *   throws, the call ends as a director error would (a `ProxyStatusError`'s code and message,
   *   else `INTERNAL`).
   *
   * Whatever the policy, when no backend ended `OK` and no failure became a message, the call
   * ends with the first failure's status.
   */
  readonly onError?: 'first-error' | 'skip' | FanOutErrorHandler;
  /**
   * `'merge'` mode: combines the responses into the one message the client gets. Given, in the
   * order of {@link FanOut.backends}, each backend's messages (or the message `onError` gave in a
   * failed backend's place); backends that sent none are left out. Default: concatenation.
   */
  readonly merge?: (responses: readonly Buffer[]) => Buffer;
}

/** A failed backend of a fan-out, as {@link FanOut.onError} sees it. */
export interface FanOutFailure {
  /** The backend's name. */
  readonly backend: string;
  /** Its position in {@link FanOut.backends}. */
  readonly index: number;
  /** Its status code (never `OK`). */
  readonly code: status;
  /** Its status message (the proxy's own, naming the backend, when it could not be reached). */
  readonly details: string;
  /** Its trailers. */
  readonly metadata: Metadata;
}

/** Turns a failed fan-out backend into a message for the client, or `null` to leave it out. */
export type FanOutErrorHandler = (failure: FanOutFailure) => Buffer | null;

/** How one backend of a fan-out call ended (see {@link CallReport.fanOut}). */
export interface FanOutOutcome {
  /** The backend's name. */
  readonly backend: string;
  /** Its status code: the backend's, or the proxy's when the backend could not be reached or
   * its call was cancelled (`CANCELLED` when the call ended before it). */
  readonly code: status;
  /** Its status message. */
  readonly details: string;
  /** True when the status was produced by the proxy (unreachable, cancelled, ...). */
  readonly proxyError: boolean;
  /** Messages this backend sent. */
  readonly messages: number;
}

/** Where one call goes, as chosen by a director. */
export interface Route {
  /** The upstream for this call. */
  backend: RouteBackend;
  /** Metadata sent to the backend. Default: the (possibly changed) `ProxyCall.metadata` after the metadata policy. */
  metadata?: Metadata;
  /** Extra grpc-js call options for the backend call (the deadline and parent are set by the engine). */
  callOptions?: CallOptions;
  /**
   * Called exactly once per route, whatever the outcome: when the proxied call ends, with the
   * status the client received, or when the engine leaves this route for a transparent retry,
   * with the `UNAVAILABLE` status of the attempt it gave up. Directors use it for load accounting
   * (in-flight counts, least-loaded).
   */
  release?(status: StatusObject): void;
  /**
   * Shadow traffic: a copy of this call sent to each mirror as well (sampled per call by
   * `percent`). The copy carries the outgoing metadata plus the engine's mirror header
   * (`mirrorHeader`, default `x-grpc-proxy-mirror: 1`) and every client message, by reference;
   * the mirror's responses and status are read and discarded. A copy never slows, changes or
   * fails the call: when the bytes it has not yet taken exceed `MIRROR_BUFFER_BYTES` (1 MiB), when
   * it fails, or when it is still running `mirrorTimeoutMs` after the call ended, it is cancelled
   * (`CallObserver.onMirrorEnd` hears `dropped` or `failed`), never waited for. A mirror is not
   * retried. Default: none.
   */
  mirror?: MirrorRoute | readonly MirrorRoute[];
}

/** A mirror of a route: where copies of its calls go, and for which share of calls. */
export interface MirrorRoute {
  /** The mirror backend (the same forms as `Route.backend` for the engine). */
  readonly backend: RouteBackend;
  /** Percent of calls copied (0 to 100), sampled per call. Default: 100. */
  readonly percent?: number;
}

/** How one mirrored copy of a call ended. */
export interface MirrorReport {
  /** Full method name of the call. */
  readonly method: string;
  /** The mirror backend's name. */
  readonly backend: string;
  /**
   * `completed`: the mirror answered (any status, reported in `code`); `dropped`: cancelled by
   * the proxy (fell behind its byte budget, or outlived the call by `mirrorTimeoutMs`);
   * `failed`: the copy could not be made or its connection failed.
   */
  readonly outcome: 'completed' | 'dropped' | 'failed';
  /** The mirror's status code when `completed`; the proxy's status otherwise. */
  readonly code: status;
  /** Why, for `dropped` and `failed`; the mirror's status message when `completed`. */
  readonly details: string;
}

/**
 * Picks the backend for each call; the TypeScript form of Go's `StreamDirector`.
 *
 * Usually asked once per call; asked again (same `ProxyCall`) when an attempt was not processed
 * by its backend and the engine retries it transparently (see {@link CallReport.retries}): a
 * rotating director then gives the next target, and one that skips unavailable backends avoids
 * the one that failed.
 *
 * To reject a call, throw an error with a numeric gRPC `code` (see {@link ProxyStatusError}):
 * the client receives exactly that code and message. Anything else thrown becomes an
 * `UNAVAILABLE` or `INTERNAL` status whose message names the proxy.
 */
export type StreamDirector = (call: ProxyCall) => Route | Promise<Route>;

/** What the per-call observer hears when a call starts. */
export interface CallStartInfo {
  /** Full method name. */
  readonly method: string;
  /** Client address as grpc-js reports it. */
  readonly peer: string;
  /** `performance.now()` when the call arrived. */
  readonly startTime: number;
}

/** What the per-call observer hears when a call ends. */
export interface CallReport extends CallStartInfo {
  /** Name of the backend that served the call; undefined when no route was chosen. */
  readonly backend?: string;
  /** Status code the client received. */
  readonly code: status;
  /** Status message the client received. */
  readonly details: string;
  /** True when the status was produced by the proxy itself (director error, backend unreachable...). */
  readonly proxyError: boolean;
  /**
   * The error behind a status the proxy produced, as it was thrown: what the director threw or
   * rejected with (a status rejection included), what a `Backend`'s `client()` threw, or what
   * grpc-js threw when the backend call was opened. The client only gets its message; this keeps
   * its type, stack and `cause` for logs. Default: `undefined` (no error was thrown, e.g. a
   * backend status, a size limit, a timeout or a cancellation).
   */
  readonly error?: unknown;
  /** Milliseconds from arrival to end. */
  readonly durationMs: number;
  /** Messages received from the client and forwarded to the backend. */
  readonly messagesFromClient: number;
  /** Messages received from the backend and forwarded to the client. */
  readonly messagesToClient: number;
  /** Payload bytes (without framing) from the client. */
  readonly bytesFromClient: number;
  /** Payload bytes (without framing) to the client. */
  readonly bytesToClient: number;
  /**
   * Transparent retries: how many times the call was sent again because an attempt was not
   * processed by a backend (`REFUSED_STREAM`, a stream beyond a `GOAWAY`, a connection that
   * failed before the request was written, a backend out of rotation). `backend` names the
   * last one tried. Default: 0.
   */
  readonly retries: number;
  /**
   * A fan-out call (`Route.backend` a {@link FanOutBackend}): how each of its backends ended, in
   * the order of `fanOut.backends`. Default: `undefined` (not a fan-out call).
   */
  readonly fanOut?: readonly FanOutOutcome[];
}

/**
 * Per-call observer hook. Metrics and logs are built on it. Both methods are optional and the
 * engine does no bookkeeping for a call when no observer is set.
 */
export interface CallObserver {
  /** A call arrived (before the director runs). */
  onCallStart?(info: CallStartInfo): void;
  /** A call ended; called exactly once per started call. */
  onCallEnd?(report: CallReport): void;
  /** A mirrored copy of a call ended (see `Route.mirror`); once per copy made. */
  onMirrorEnd?(report: MirrorReport): void;
}
