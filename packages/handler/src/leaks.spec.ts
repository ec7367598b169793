import { status } from '@grpc/grpc-js';
import {
  MIXED_CALL_CODES,
  MIXED_CALL_INDEX_KEY,
  MIXED_CALL_KIND_KEY,
  createEchoClient,
  mixedCallKind,
  runMixedCall,
  startEchoServer,
  type EchoServiceClient,
  type MixedCallKind,
} from '@grpc-proxy/testing';
import { ProxyStatusError } from './status-error';
import { eventually } from './test-support/grpc-fixtures';
import { useHarness } from './test-support/harness';
import { activeResources, grown } from './test-support/resources';

describe('no leaks', () => {
  const h = useHarness({
    startBackend: async () => {
      const echo = await startEchoServer({ name: 'leaks-backend' });
      return { echo, target: echo.address, close: async () => echo.forceClose() };
    },
  });
  let client: EchoServiceClient;
  beforeEach(() => (client = createEchoClient(h.proxy.target)));
  afterEach(() => client.close());
  /** Indexes of the calls the proxy's director saw (a call whose deadline expired before it reached the proxy's handler never does). */
  const reached = new Set<number>();

  async function run(from: number, to: number): Promise<void> {
    const BATCH = 100;
    for (let start = from; start < to; start += BATCH) {
      const indexes = Array.from({ length: Math.min(BATCH, to - start) }, (_, j) => start + j);
      const outcomes = await Promise.all(indexes.map((index) => runMixedCall(client, index)));
      const codes = outcomes.map((code, j) => [indexes[j], code]);
      expect(codes).toEqual(
        indexes.map((index) => [index, MIXED_CALL_CODES[mixedCallKind(index)]]),
      );
    }
  }

  function countReached(predicate: (kind: MixedCallKind) => boolean): number {
    return [...reached].filter((index) => predicate(mixedCallKind(index))).length;
  }

  it('leaves no handles, timers, listeners or backend calls behind after 1000 mixed calls', async () => {
    reached.clear();
    h.director = (call) => {
      reached.add(Number(call.metadata.get(MIXED_CALL_INDEX_KEY)[0]));
      if (call.metadata.get(MIXED_CALL_KIND_KEY)[0] === 'director-error')
        throw new ProxyStatusError(status.FAILED_PRECONDITION, 'no');
      return h.route();
    };
    await run(0, 60); // warm-up: connections and grpc-js's long-lived timers exist from here on
    await eventually(() => h.reports.length === reached.size, 'warm-up calls reported');
    const before = activeResources();
    const warningListeners = process.listenerCount('warning');

    await run(60, 1060);

    expect(reached.size).toBeGreaterThan(1000);
    await eventually(
      () => h.reports.length === reached.size,
      'every call that reached the proxy reported once',
    );
    await eventually(
      () => h.releases.length === countReached((kind) => kind !== 'director-error'),
      'every route released once',
    );
    await eventually(
      () => h.backend.echo.calls.every((call) => call.ended),
      'every backend call ended or cancelled',
    );
    // Wait for the counts to settle; the expect then shows what grew if they never do. (The
    // baseline may still hold a few short timers of the warm-up calls, hence "not more than".)
    await eventually(
      () => Object.keys(grown(before)).length === 0,
      'resources back to baseline',
    ).catch(() => undefined);
    expect(grown(before)).toEqual({});
    expect(process.listenerCount('warning')).toBe(warningListeners);
    const codes: Record<number, number> = {};
    for (const report of h.reports) codes[report.code] = (codes[report.code] ?? 0) + 1;
    expect(codes).toEqual({
      [status.OK]: countReached((kind) => kind === 'unary' || kind === 'bidi'),
      [status.ABORTED]: countReached((kind) => kind === 'backend-error'),
      [status.FAILED_PRECONDITION]: countReached((kind) => kind === 'director-error'),
      [status.CANCELLED]: countReached((kind) => kind === 'cancel'),
      [status.DEADLINE_EXCEEDED]: countReached((kind) => kind === 'deadline'),
    });
  });
});
