import type { EchoClientOptions } from '../echo-client';
import type { EchoServerHandle } from '../echo-server';

/** Settings a conformance case gets besides the proxy address and the backend. */
export interface ConformanceOptions {
  /**
   * How the cases' clients reach the proxy (TLS credentials, channel options).
   * Default: insecure, limits lifted.
   */
  client?: EchoClientOptions;
  /**
   * How cases reach the backend directly, to learn its own answer (the `unimplemented_*` cases).
   * Default: insecure, limits lifted.
   */
  backendClient?: EchoClientOptions;
  /**
   * How long a case waits for any one event (a response, headers, a record on the backend)
   * before it fails saying what is missing. Default: 10000 ms.
   */
  stepTimeoutMs?: number;
  /**
   * How long `idle_stream_stays_open` keeps its stream silent. Default: 70000 ms, longer than
   * nginx's default `grpc_read_timeout` (60 s) and haproxy's packaged `timeout server` (50 s).
   */
  idleStreamMs?: number;
  /** What the proxy does differently on purpose; the cases check that instead. Default: none. */
  declared?: DeclaredDifferences;
}

/**
 * Deliberate differences of a proxy from a transparent one, declared so that the cases check
 * the declared behaviour exactly rather than fail on it (or be skipped).
 */
export interface DeclaredDifferences {
  /**
   * Request metadata keys the proxy adds on purpose (lower case, e.g. `x-forwarded-for`), which
   * `no_request_headers_added` then ignores. Default: none.
   */
  addedRequestHeaders?: readonly string[];
  /**
   * Response header and trailer keys the proxy adds on purpose (lower case, e.g. `server`),
   * which `no_response_headers_added` then ignores. Default: none.
   */
  addedResponseHeaders?: readonly string[];
  /**
   * The proxy decompresses messages: compressed requests reach the backend uncompressed, and
   * compressed responses reach the client uncompressed, intact. The `compressed_*` cases then
   * check exactly that. Default: false (compressed messages pass compressed).
   */
  inflatesCompressedMessages?: boolean;
}

/** One named conformance check. */
export interface ConformanceCase {
  /** A stable snake_case name, e.g. `empty_unary`. */
  readonly name: string;
  /** What the case checks, in a sentence. */
  readonly description: string;
  /** The case's time budget with default options (jest timeout in the adapter). */
  readonly timeoutMs: number;
  /**
   * Whether the case takes long (tens of seconds): slow cases run only when asked for (see
   * `includeSlow` of `describeProxyConformance`).
   */
  readonly slow: boolean;
  /** The case's time budget with `options` (some cases take as long as an option says). */
  timeoutFor(options?: ConformanceOptions): number;
  /**
   * Runs the case against the proxy at `proxyAddress`, which forwards to `backend`. Resolves
   * when the proxy behaved; rejects with an error that says what differed (expected vs actual).
   * Cases tag their calls (see {@link CALL_ID_KEY}), so others may share the backend, but the
   * `unimplemented_*` cases count calls on the backend: run cases one at a time.
   */
  run(proxyAddress: string, backend: EchoServerHandle, options?: ConformanceOptions): Promise<void>;
}

/** Request metadata key carrying a unique id per call, to find the call in the backend's log. */
export const CALL_ID_KEY = 'x-conformance-call-id';
