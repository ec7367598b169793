import { Metadata, connectivityState, credentials, status } from '@grpc/grpc-js';
import type { Client, ClientUnaryCall, ServiceError } from '@grpc/grpc-js';
import type { PassiveHealth } from './passive-health';

/**
 * Deadline of the call that reads why the channel failed, in ms. It fails within a tick when
 * the channel is in `TRANSIENT_FAILURE`; the deadline only bounds odd cases (a load-balancing
 * policy that queues calls instead).
 */
const ERROR_LOOKUP_TIMEOUT_MS = 1000;
/** Never sent: the call's credentials fail before a stream is opened (see {@link lookUpError}). */
const ERROR_LOOKUP_PATH = '/grpc_proxy.director.PassiveHealth/LastConnectionError';
const NEVER_SENT = credentials.createFromMetadataGenerator((_params, callback) =>
  callback(new Error('grpc-proxy: connection error lookup, never sent')),
);
const identity = (buffer: Buffer) => buffer;

/**
 * Feeds `health` from the backend's grpc-js channel until the returned function is called:
 * - `TRANSIENT_FAILURE`: down (the channel's last connection error, read as described in
 *   {@link lookUpError});
 * - `READY`: up;
 * - `IDLE`: connect again at once. After `READY` it means the connection was lost (backend
 *   killed, `GOAWAY` of a graceful stop): a dead target is then known within one connection
 *   attempt, before calls pile onto it. While down (the channel went idle), it is the next
 *   probe; grpc-js paces the attempts with its reconnect backoff (100 ms doubling to 500 ms,
 *   ± 20 %, in the handler's `proxyChannelOptions`).
 *
 * The watch holds no timer or handle: it does not keep the process alive.
 */
export function watchChannelHealth(
  client: Client,
  target: string,
  health: PassiveHealth,
): () => void {
  const channel = client.getChannel();
  let stopped = false;
  let lookup: ClientUnaryCall | undefined;

  const onState = (state: connectivityState) => {
    if (state === connectivityState.READY) health.connected();
    else if (state === connectivityState.TRANSIENT_FAILURE) {
      const placeholder = new Error(`connection to ${target} failed (channel TRANSIENT_FAILURE)`);
      const explain = health.failing(placeholder);
      lookup?.cancel();
      const call = lookUpError(client, (details) => {
        if (lookup !== call) return;
        lookup = undefined;
        explain(details === undefined ? placeholder : connectionError(target, details));
      });
      lookup = call;
    } else if (state === connectivityState.IDLE) {
      // Deferred: the channel may be in the middle of entering IDLE when it calls the watcher.
      queueMicrotask(() => {
        if (!stopped) channel.getConnectivityState(true);
      });
    }
  };
  const arm = () => {
    channel.watchConnectivityState(channel.getConnectivityState(false), Infinity, () => {
      const state = channel.getConnectivityState(false);
      // SHUTDOWN: the channel was closed under us (e.g. through a client sharing it).
      if (stopped || state === connectivityState.SHUTDOWN) return;
      onState(state);
      arm();
    });
  };
  arm();
  return () => {
    stopped = true;
    lookup?.cancel();
    lookup = undefined;
  };
}

/**
 * grpc-js keeps the channel's last connection error private, but a call that does not wait for
 * ready fails at once in `TRANSIENT_FAILURE` with it in its details. Its credentials always
 * fail, so it never reaches the backend even if the channel connected meanwhile. `done` gets
 * the details, or `undefined` when the call did not fail that way.
 */
function lookUpError(client: Client, done: (details: string | undefined) => void): ClientUnaryCall {
  return client.makeUnaryRequest(
    ERROR_LOOKUP_PATH,
    identity,
    identity,
    Buffer.alloc(0),
    new Metadata(),
    { deadline: Date.now() + ERROR_LOOKUP_TIMEOUT_MS, credentials: NEVER_SENT },
    (error: ServiceError | null) => {
      if (error?.code === status.CANCELLED) return;
      done(error?.code === status.UNAVAILABLE ? error.details : undefined);
    },
  );
}

/**
 * The error for grpc-js's `No connection established. Last error: Error: connect ECONNREFUSED
 * 127.0.0.1:1. Resolution note: `: `connection to <target> failed: connect ECONNREFUSED
 * 127.0.0.1:1`; other details (e.g. `Name resolution failed for target ...`) are kept whole.
 */
export function connectionError(target: string, details: string): Error {
  const parsed = /Last error: (?:Error: )?(.*?)\. Resolution note: ?(.*)$/s.exec(details);
  const reason = parsed ? parsed[1] + (parsed[2] ? ` (${parsed[2]})` : '') : details;
  return new Error(`connection to ${target} failed: ${reason}`);
}
