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
}

/** One named conformance check. */
export interface ConformanceCase {
  /** A stable snake_case name, e.g. `empty_unary`. */
  readonly name: string;
  /** What the case checks, in a sentence. */
  readonly description: string;
  /** A time budget for the case (jest timeout in the adapter). */
  readonly timeoutMs: number;
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
