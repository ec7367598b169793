import {
  connectivityState,
  status,
  type ChannelInterface,
  type Client,
  type StatusObject,
} from '@grpc/grpc-js';
import { callRawUnary, openRawBidi } from '@grpc-proxy/testing';
import type { CallReport, Route } from './contracts';
import { resolveHandlerOptions, type ProxyHandlerOptions } from './options';
import { createProxyServer } from './server';
import { MAX_CALL_ATTEMPTS } from './transparent-retry';
import { eventually } from './test-support/grpc-fixtures';
import { useBackend } from './test-support/harness';
import { ECHO, startTestBackend, type TestBackend } from './test-support/test-backend';

/** Resolves once `channel` is in `wanted` (it is asked to connect when idle); bounded by `limitMs`. */
async function channelState(
  channel: ChannelInterface,
  wanted: connectivityState,
  limitMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const state = channel.getConnectivityState(true);
    if (state === wanted) return;
    await new Promise<void>((resolve, reject) =>
      channel.watchConnectivityState(state, deadline, (error) =>
        error ? reject(new Error(`channel never became ${connectivityState[wanted]}`)) : resolve(),
      ),
    );
  }
}

/** Resolves once `channel` is no longer READY (it noticed its connection closed). */
async function channelLeftReady(channel: ChannelInterface, limitMs = 10_000): Promise<void> {
  if (channel.getConnectivityState(false) !== connectivityState.READY) return;
  await new Promise<void>((resolve, reject) =>
    channel.watchConnectivityState(connectivityState.READY, Date.now() + limitMs, (error) =>
      error ? reject(new Error('channel stayed READY')) : resolve(),
    ),
  );
}

const ECONNREFUSED_LAST_ERROR = /No connection established\. Last error: .*ECONNREFUSED/;

describe('a backend channel that failed to connect', () => {
  /** The backend client has the default channel options of createBackendClient. */
  const h = useBackend();
  let port = 0;
  let client: Client;
  const reports: CallReport[] = [];
  const releases: StatusObject[] = [];
  /** Routes the proxy's director gave: once it did, the call is waiting in the proxy. */
  let routesGiven = 0;

  beforeEach(() => {
    reports.length = 0;
    releases.length = 0;
    routesGiven = 0;
    port = h.backend.port;
  });

  async function startProxy(options: ProxyHandlerOptions): Promise<void> {
    const director = (): Route => {
      routesGiven++;
      return { backend: h.backendClient, release: (final) => releases.push(final) };
    };
    const observer = { onCallEnd: (report: CallReport) => reports.push(report) };
    ({ client } = await h.serve(createProxyServer({ director, observer, ...options })));
  }

  /** Starts the proxy, then leaves `port` with nothing listening and the channel in TRANSIENT_FAILURE. */
  async function startProxyToDownBackend(options: ProxyHandlerOptions): Promise<void> {
    await startProxy(options);
    await h.backend.close();
    await channelState(h.backendClient.getChannel(), connectivityState.TRANSIENT_FAILURE);
  }

  /** A backend on `port` again (closed after the test). */
  async function backendBack(): Promise<TestBackend> {
    h.backend = await startTestBackend(undefined, port);
    return h.backend;
  }

  it('retries a call whose connection failed on the same backend, waiting for it to come back', async () => {
    // Generous window: on a loaded machine the channel's next attempt (<= 600 ms apart) may be late.
    await startProxy({ backendConnectTimeoutMs: 5000 });
    const up = await callRawUnary(client, `${ECHO}/Unary`, Buffer.from('up'));
    expect(up.status.code).toBe(status.OK);

    await h.backend.close();
    await channelLeftReady(h.backendClient.getChannel());
    // The channel lost its connection (IDLE): grpc-js tries once for this call and fails it; the
    // call never left the proxy, so it is retried: the director is asked again and, the channel
    // now in TRANSIENT_FAILURE, the retry waits for its next connection attempt.
    const down = callRawUnary(client, `${ECHO}/Unary`, Buffer.from('down'));
    await eventually(() => routesGiven === 3, 'the director was asked again');
    expect(h.backendClient.getChannel().getConnectivityState(false)).toBe(
      connectivityState.TRANSIENT_FAILURE,
    );
    const backend = await backendBack();
    const outcome = await down;
    expect([outcome.status.code, outcome.responses]).toEqual([
      status.OK,
      [Buffer.from('echo:down')],
    ]);
    expect(backend.seen.map((call) => call.method)).toEqual([`${ECHO}/Unary`]);
    await eventually(() => reports.length === 2, 'observer heard both ends');
    expect(reports[1]).toMatchObject({ code: status.OK, proxyError: false, retries: 1 });
    expect(releases.map((final) => final.code)).toEqual([status.OK, status.UNAVAILABLE, status.OK]);
    expect(releases[1].details).toMatch(
      new RegExp(`^grpc-proxy: backend dns:127\\.0\\.0\\.1:${port} unavailable: No connection`),
    );
  });

  it('gives up after backendConnectTimeoutMs with UNAVAILABLE naming the proxy and the last error', async () => {
    await startProxyToDownBackend({ backendConnectTimeoutMs: 200 });
    const outcome = await callRawUnary(client, `${ECHO}/Unary`, Buffer.from('x'));
    expect(outcome.status.code).toBe(status.UNAVAILABLE);
    expect(outcome.status.details).toMatch(
      new RegExp(
        `^grpc-proxy: backend dns:127\\.0\\.0\\.1:${port} unavailable: not connected within 200 ms: `,
      ),
    );
    expect(outcome.status.details).toMatch(ECONNREFUSED_LAST_ERROR);
    await eventually(() => reports.length === 1, 'observer heard the end');
    // A backend that stayed unreachable for a whole connect wait is not tried again in the call
    // (a second try would wait for the same failure): each further route the director gives (the
    // same backend) is refused by the budget and released with the call's status.
    expect(reports[0]).toMatchObject({ code: status.UNAVAILABLE, proxyError: true, retries: 0 });
    expect(routesGiven).toBe(1 + MAX_CALL_ATTEMPTS);
    expect(releases.map((final) => [final.code, final.details])).toEqual(
      Array(1 + MAX_CALL_ATTEMPTS).fill([status.UNAVAILABLE, outcome.status.details]),
    );
  });

  it('does not wait when backendConnectTimeoutMs is 0: grpc-js fails the call at once', async () => {
    await startProxyToDownBackend({ backendConnectTimeoutMs: 0 });
    const outcome = await callRawUnary(client, `${ECHO}/Unary`, Buffer.from('x'));
    expect(outcome.status.code).toBe(status.UNAVAILABLE);
    expect(outcome.status.details).toMatch(
      new RegExp(`^grpc-proxy: backend dns:127\\.0\\.0\\.1:${port} unavailable: No connection`),
    );
    expect(outcome.status.details).toMatch(ECONNREFUSED_LAST_ERROR);
  });

  it('never waits beyond the call deadline', async () => {
    await startProxyToDownBackend({ backendConnectTimeoutMs: 60_000 });
    const outcome = await callRawUnary(client, `${ECHO}/Unary`, Buffer.from('x'), {
      options: { deadline: Date.now() + 300 },
    });
    expect(outcome.status.code).toBe(status.DEADLINE_EXCEEDED);
    await eventually(() => reports.length === 1, 'observer heard the end');
    expect(reports[0].code).toBe(status.DEADLINE_EXCEEDED);
  });

  it("ends DEADLINE_EXCEEDED naming the proxy when the route's deadline ends the wait", async () => {
    const director = (): Route => {
      routesGiven++;
      return { backend: h.backendClient, callOptions: { deadline: Date.now() + 300 } };
    };
    const observer = { onCallEnd: (report: CallReport) => reports.push(report) };
    ({ client } = await h.serve(
      createProxyServer({ director, observer, backendConnectTimeoutMs: 60_000 }),
    ));
    await h.backend.close();
    await channelState(h.backendClient.getChannel(), connectivityState.TRANSIENT_FAILURE);

    // The proxy ends it: opening the backend call at the deadline would leave the status to a
    // race between grpc-js's deadline timer and its failing pick.
    const outcome = await callRawUnary(client, `${ECHO}/Unary`, Buffer.from('x'));
    // The wait's limit is what is left of the route's 300 ms when the wait starts: on a loaded
    // machine a millisecond may pass between the director and the wait.
    const details = new RegExp(
      `^grpc-proxy: backend dns:127\\.0\\.0\\.1:${port} failed: not connected within (29\\d|300) ms: Deadline exceeded$`,
    );
    expect(outcome.status.code).toBe(status.DEADLINE_EXCEEDED);
    expect(outcome.status.details).toMatch(details);
    await eventually(() => reports.length === 1, 'observer heard the end');
    expect(reports[0]).toMatchObject({ code: status.DEADLINE_EXCEEDED, proxyError: true });
    expect(reports[0].details).toBe(outcome.status.details);
    expect(routesGiven).toBe(1);
  });

  it('stops waiting when the client cancels, and never calls the backend', async () => {
    await startProxyToDownBackend({ backendConnectTimeoutMs: 60_000 });
    const { call, outcome } = openRawBidi(client, `${ECHO}/Bidi`);
    call.write(Buffer.from('while waiting'));
    await eventually(() => routesGiven === 1, 'the call reached the proxy');
    call.cancel();
    expect((await outcome).status.code).toBe(status.CANCELLED);
    await eventually(() => reports.length === 1, 'observer heard the end');
    expect(reports[0]).toMatchObject({ code: status.CANCELLED, proxyError: false });
    expect(releases.map((final) => final.code)).toEqual([status.CANCELLED]);

    // The backend comes back: the abandoned call must not be opened on it.
    const backend = await backendBack();
    await channelState(h.backendClient.getChannel(), connectivityState.READY);
    const next = await callRawUnary(client, `${ECHO}/Unary`, Buffer.from('next'));
    expect(next.status.code).toBe(status.OK);
    expect(backend.seen.map((seen) => seen.method)).toEqual([`${ECHO}/Unary`]);
  });
});

describe('backendConnectTimeoutMs', () => {
  it('rejects a negative or infinite backendConnectTimeoutMs', () => {
    expect(() => resolveHandlerOptions({ backendConnectTimeoutMs: -1 })).toThrow(
      new RangeError('backendConnectTimeoutMs must be a finite number >= 0, got -1'),
    );
    expect(() => resolveHandlerOptions({ backendConnectTimeoutMs: Infinity })).toThrow(
      new RangeError('backendConnectTimeoutMs must be a finite number >= 0, got Infinity'),
    );
    expect(resolveHandlerOptions().backendConnectTimeoutMs).toBe(1000);
  });
});
