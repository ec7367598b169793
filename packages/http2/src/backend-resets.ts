/**
 * Cancellations towards a backend, within a budget per backend connection. Servers count the
 * RST_STREAM frames a connection sends them (Node.js, so grpc-js: 1 000, then 33 a second, and
 * then GOAWAY): a burst of cancellations from one client, sent on the connection every client
 * shares, would make the backend refuse everybody's next calls. A connection that used up its
 * budget is closed gracefully: its running calls finish on it, new calls go on a new connection.
 */
import { constants, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';

/** The budget of cancellations per backend connection. */
export interface BackendResetLimits {
  /** Cancellations in a burst. */
  readonly backendResetBurst: number;
  /** Cancellations a second refilled. */
  readonly backendResetsPerSecond: number;
}

const BUDGET = Symbol('reset budget');

/** Tokens left and when they were last refilled. */
interface Budget {
  tokens: number;
  refilledAt: number;
}

type BudgetedSession = ClientHttp2Session & { [BUDGET]?: Budget };

/**
 * Resets `stream` with CANCEL (nothing when it is closed already), and charges its connection one
 * cancellation if its HEADERS went out (before that, nghttp2 drops both: the backend hears
 * nothing). A connection left without a whole token is closed gracefully.
 */
export function cancelBackendStream(stream: ClientHttp2Stream, limits: BackendResetLimits): void {
  if (stream.closed) return;
  const sent =
    stream.id !== undefined && stream.state.state !== constants.NGHTTP2_STREAM_STATE_IDLE;
  const session = stream.session as BudgetedSession | undefined;
  stream.close(constants.NGHTTP2_CANCEL);
  if (!sent || session === undefined || session.closed || session.destroyed) return;
  const now = Date.now();
  const budget = (session[BUDGET] ??= { tokens: limits.backendResetBurst, refilledAt: now });
  const refill = ((now - budget.refilledAt) / 1000) * limits.backendResetsPerSecond;
  budget.tokens = Math.min(limits.backendResetBurst, budget.tokens + refill) - 1;
  budget.refilledAt = now;
  if (budget.tokens < 1) session.close();
}
