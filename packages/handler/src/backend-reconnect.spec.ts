import {
  Metadata,
  connectivityState,
  status,
  type ChannelInterface,
  type Client,
  type StatusObject,
} from '@grpc/grpc-js';
import { createBackendClient } from './backend-client';
import type { CallReport } from './contracts';
import { resolveHandlerOptions, type ProxyHandlerOptions } from './options';
import {
  collect,
  eventually,
  raw,
  rawClient,
  unaryCall,
  type RunningServer,
} from './test-support/grpc-fixtures';
import { startProxy } from './test-support/proxy-fixture';
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
  let backend: TestBackend | null = null;
  let port = 0;
  let backendClient: Client;
  let proxy: RunningServer;
  let client: Client;
  const reports: CallReport[] = [];
  const releases: StatusObject[] = [];
  /** Routes the proxy's director gave: once it did, the call is waiting in the proxy. */
  let routesGiven = 0;

  /** A proxy to a backend client of 127.0.0.1:`port` made with the default channel options. */
  async function startProxyToPort(options: ProxyHandlerOptions): Promise<void> {
    backendClient = createBackendClient(`127.0.0.1:${port}`);
    proxy = await startProxy(
      () => {
        routesGiven++;
        return { backend: backendClient, release: (final) => releases.push(final) };
      },
      { observer: { onCallEnd: (report) => reports.push(report) }, ...options },
    );
    client = rawClient(proxy.target);
  }

  /** Leaves `port` with nothing listening on it, and the backend channel in TRANSIENT_FAILURE. */
  async function backendDown(): Promise<void> {
    await backend?.close();
    backend = null;
    await channelState(backendClient.getChannel(), connectivityState.TRANSIENT_FAILURE);
  }

  beforeEach(async () => {
    reports.length = 0;
    releases.length = 0;
    routesGiven = 0;
    backend = await startTestBackend();
    port = backend.port;
  });

  afterEach(async () => {
    client.close();
    backendClient.close();
    await proxy.close();
    await backend?.close();
    backend = null;
  });

  it('fails fast naming the proxy while the backend is down, and the first call once it is back succeeds', async () => {
    // Generous window: on a loaded machine the channel's next attempt (<= 600 ms apart) may be late.
    await startProxyToPort({ backendConnectTimeoutMs: 5000 });
    const up = await unaryCall(client, `${ECHO}/Unary`, Buffer.from('up'));
    expect(up.status.code).toBe(status.OK);

    await backend!.close();
    backend = null;
    await channelLeftReady(backendClient.getChannel());
    // The channel lost its connection (IDLE): grpc-js tries once for this call and fails it.
    const down = await unaryCall(client, `${ECHO}/Unary`, Buffer.from('down'));
    expect(down.status.code).toBe(status.UNAVAILABLE);
    expect(down.status.details).toMatch(
      new RegExp(`^grpc-proxy: backend dns:127\\.0\\.0\\.1:${port} unavailable: No connection`),
    );
    await channelState(backendClient.getChannel(), connectivityState.TRANSIENT_FAILURE);

    // Without waiting, grpc-js would fail this call at once: the channel is in TRANSIENT_FAILURE.
    backend = await startTestBackend(undefined, port);
    const back = await unaryCall(client, `${ECHO}/Unary`, Buffer.from('back'));
    expect([back.status.code, back.responses]).toEqual([status.OK, [Buffer.from('echo:back')]]);
    expect(backend.seen.map((call) => call.method)).toEqual([`${ECHO}/Unary`]);
  });

  it('gives up after backendConnectTimeoutMs with UNAVAILABLE naming the proxy and the last error', async () => {
    await startProxyToPort({ backendConnectTimeoutMs: 200 });
    await backendDown();
    const outcome = await unaryCall(client, `${ECHO}/Unary`, Buffer.from('x'));
    expect(outcome.status.code).toBe(status.UNAVAILABLE);
    expect(outcome.status.details).toMatch(
      new RegExp(
        `^grpc-proxy: backend dns:127\\.0\\.0\\.1:${port} unavailable: not connected within 200 ms: `,
      ),
    );
    expect(outcome.status.details).toMatch(ECONNREFUSED_LAST_ERROR);
    await eventually(() => reports.length === 1, 'observer heard the end');
    expect(reports[0]).toMatchObject({ code: status.UNAVAILABLE, proxyError: true });
    expect(releases.map((final) => final.code)).toEqual([status.UNAVAILABLE]);
  });

  it('does not wait when backendConnectTimeoutMs is 0: grpc-js fails the call at once', async () => {
    await startProxyToPort({ backendConnectTimeoutMs: 0 });
    await backendDown();
    const outcome = await unaryCall(client, `${ECHO}/Unary`, Buffer.from('x'));
    expect(outcome.status.code).toBe(status.UNAVAILABLE);
    expect(outcome.status.details).toMatch(
      new RegExp(`^grpc-proxy: backend dns:127\\.0\\.0\\.1:${port} unavailable: No connection`),
    );
    expect(outcome.status.details).toMatch(ECONNREFUSED_LAST_ERROR);
  });

  it('never waits beyond the call deadline', async () => {
    await startProxyToPort({ backendConnectTimeoutMs: 60_000 });
    await backendDown();
    const outcome = await unaryCall(client, `${ECHO}/Unary`, Buffer.from('x'), new Metadata(), {
      deadline: Date.now() + 300,
    });
    expect(outcome.status.code).toBe(status.DEADLINE_EXCEEDED);
    await eventually(() => reports.length === 1, 'observer heard the end');
    expect(reports[0].code).toBe(status.DEADLINE_EXCEEDED);
  });

  it('stops waiting when the client cancels, and never calls the backend', async () => {
    await startProxyToPort({ backendConnectTimeoutMs: 60_000 });
    await backendDown();
    const call = client.makeBidiStreamRequest(`${ECHO}/Bidi`, raw, raw);
    const outcome = collect(call);
    call.write(Buffer.from('while waiting'));
    await eventually(() => routesGiven === 1, 'the call reached the proxy');
    call.cancel();
    expect((await outcome).status.code).toBe(status.CANCELLED);
    await eventually(() => reports.length === 1, 'observer heard the end');
    expect(reports[0]).toMatchObject({ code: status.CANCELLED, proxyError: false });
    expect(releases.map((final) => final.code)).toEqual([status.CANCELLED]);

    // The backend comes back: the abandoned call must not be opened on it.
    backend = await startTestBackend(undefined, port);
    await channelState(backendClient.getChannel(), connectivityState.READY);
    const next = await unaryCall(client, `${ECHO}/Unary`, Buffer.from('next'));
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
