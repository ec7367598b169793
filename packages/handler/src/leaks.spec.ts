import { Metadata, status } from '@grpc/grpc-js';
import { callRawBidi, callRawUnary, openRawBidi, type CallOutcome } from '@grpc-proxy/testing';
import { ProxyStatusError } from './status-error';
import { eventually } from './test-support/grpc-fixtures';
import { useHarness } from './test-support/harness';
import { ECHO } from './test-support/test-backend';

/**
 * Active handles and requests by type (sockets, timers, ...), as Node counts them. Immediates
 * are left out: they run on the next turn by nature and are never a lasting resource.
 */
function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) {
    if (type !== 'Immediate') counts[type] = (counts[type] ?? 0) + 1;
  }
  return counts;
}

/** Resource types of which more are active now than in `before`, with both counts. */
function grown(before: Record<string, number>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [type, count] of Object.entries(activeResources())) {
    if (count > (before[type] ?? 0)) result[type] = `${before[type] ?? 0} -> ${count}`;
  }
  return result;
}

const KINDS = ['unary', 'bidi', 'backend-error', 'director-error', 'cancel', 'deadline'] as const;
type Kind = (typeof KINDS)[number];
const kindOf = (index: number): Kind => KINDS[index % KINDS.length];

const CLIENT_CODE: Record<Kind, number> = {
  unary: status.OK,
  bidi: status.OK,
  'backend-error': status.ABORTED,
  'director-error': status.FAILED_PRECONDITION,
  cancel: status.CANCELLED,
  deadline: status.DEADLINE_EXCEEDED,
};

describe('no leaks', () => {
  const h = useHarness();
  /** Indexes of the calls the proxy's director saw (a call whose deadline expired before it reached the proxy's handler never does). */
  const reached = new Set<number>();

  function oneCall(index: number): Promise<CallOutcome<Buffer>> {
    const kind = kindOf(index);
    const payload = Buffer.from([index & 255, index >> 8]);
    const md = new Metadata();
    md.set('x-index', String(index));
    if (kind === 'backend-error') md.set('x-fail-code', String(status.ABORTED));
    if (kind === 'director-error') md.set('x-reject', 'yes');
    switch (kind) {
      case 'unary':
      case 'backend-error':
      case 'director-error':
        return callRawUnary(h.client, `${ECHO}/Unary`, payload, { metadata: md });
      case 'bidi':
        return callRawBidi(h.client, `${ECHO}/Bidi`, [payload, payload], { metadata: md });
      case 'cancel': {
        // Cancelled mid-call, once the echo proved the backend call is open.
        const { call, outcome } = openRawBidi(h.client, `${ECHO}/Bidi`, { metadata: md });
        call.once('data', () => call.cancel());
        call.write(payload);
        return outcome;
      }
      case 'deadline': {
        const { call, outcome } = openRawBidi(h.client, `${ECHO}/Hang`, {
          metadata: md,
          options: { deadline: Date.now() + 100 },
        });
        call.write(payload);
        return outcome;
      }
    }
  }

  async function run(from: number, to: number): Promise<void> {
    const BATCH = 100;
    for (let start = from; start < to; start += BATCH) {
      const indexes = Array.from({ length: Math.min(BATCH, to - start) }, (_, j) => start + j);
      const outcomes = await Promise.all(indexes.map(oneCall));
      const codes = outcomes.map((outcome, j) => [indexes[j], outcome.status.code]);
      expect(codes).toEqual(indexes.map((index) => [index, CLIENT_CODE[kindOf(index)]]));
    }
  }

  function countReached(predicate: (kind: Kind) => boolean): number {
    return [...reached].filter((index) => predicate(kindOf(index))).length;
  }

  it('leaves no handles, timers, listeners or backend calls behind after 1000 mixed calls', async () => {
    reached.clear();
    h.director = (call) => {
      reached.add(Number(call.metadata.get('x-index')[0]));
      if (call.metadata.get('x-reject').length > 0)
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
      () => h.backend.seen.every((call) => call.ended || call.cancelled),
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
