/**
 * The session pool's passive-health input: each connection attempt is reported to the backends
 * routed to its target; a target with a backend down is probed (a connection attempt at each
 * backoff time) until none is down or all are closed, and never after the pool closed.
 */
import { EventEmitter, once } from 'node:events';
import { createBackend, type OwnedBackend } from '@grpc-proxy/director';
import type { Backend } from '@grpc-proxy/handler';
import { CLOSED_BEFORE_SETTINGS } from './pooled-session';
import { SessionPool } from './session-pool';
import { startConnectionSink, type ConnectionSink } from './test-support/connection-sink';
import { answerGrpc, startRawBackend, type RawBackend } from './test-support/raw-h2';
import { waitFor } from './test-support/wait';

const OPTIONS = {
  settings: {},
  idleTimeoutMs: 0,
  keepaliveMs: 0,
  keepaliveTimeoutMs: 20_000,
  connectionWindowSize: 65_535,
};

describe('session pool probes', () => {
  let pool: SessionPool;
  let sink: ConnectionSink | undefined;
  let raw: RawBackend | undefined;
  let backends: OwnedBackend[];

  beforeEach(() => {
    pool = new SessionPool(OPTIONS);
    backends = [];
  });

  afterEach(async () => {
    pool.close(true);
    for (const backend of backends) backend.close();
    await sink?.close();
    await raw?.close();
    sink = raw = undefined;
  });

  function backend(
    name: string,
    target: string,
    onHealthChange?: (available: boolean) => void,
  ): OwnedBackend {
    const created = createBackend(target, { name, onHealthChange });
    backends.push(created);
    return created;
  }

  /** Makes a connection attempt to `target` for `reporter`; resolves once it failed. */
  async function failedAttempt(target: string, reporter: Backend): Promise<void> {
    const { session } = pool.get(target, undefined, reporter);
    await once(session, 'close');
  }

  it('reports a failed attempt, probes the target while its backend is down, and stops when the pool closes', async () => {
    sink = await startConnectionSink();
    const a = backend('a', sink.target);
    // `a`, counting its reports.
    const events = new EventEmitter();
    let reported = 0;
    const counted: Backend = {
      name: 'a',
      client: () => a.client(),
      isAvailable: () => a.isAvailable(),
      reportConnection: (error) => {
        a.reportConnection(error);
        reported++;
        events.emit('report');
      },
    };
    pool.get(sink.target, undefined, counted);
    // The attempt, then two probes; the next is due once the last report is in.
    await waitFor(
      events,
      'report',
      () => reported === 3,
      () => `${reported} reports`,
    );
    expect([a.isAvailable(), a.connectionError?.message]).toEqual([false, CLOSED_BEFORE_SETTINGS]);
    expect([sink.times.length, pool.probing]).toEqual([3, 1]);
    pool.close();
    expect(pool.probing).toBe(0);
  });

  it('reports a probe that connects: the backend is back and probing stops', async () => {
    sink = await startConnectionSink();
    let cameBack: () => void = () => undefined;
    const back = new Promise<void>((resolve) => (cameBack = resolve));
    const a = backend('a', sink.target, (available) => available && cameBack());
    await failedAttempt(sink.target, a);
    const port = sink.port;
    await sink.close();
    sink = undefined;
    raw = await startRawBackend((stream) => answerGrpc(stream, Buffer.from('a')), {}, port);
    await back;
    expect([a.isAvailable(), a.connectionError, pool.probing]).toEqual([true, undefined, 0]);
  });

  it('does not probe for a backend that stays available, nor for one that is closed', async () => {
    sink = await startConnectionSink();
    const reports: Array<string | undefined> = [];
    const steady: Backend = {
      name: 'steady',
      client: () => {
        throw new Error('not used');
      },
      isAvailable: () => true,
      reportConnection: (error) => reports.push(error?.message),
    };
    await failedAttempt(sink.target, steady);
    expect([reports, pool.probing]).toEqual([[CLOSED_BEFORE_SETTINGS], 0]);
    const closed = backend('closed', sink.target);
    closed.close();
    await failedAttempt(sink.target.replace('127.0.0.1', 'localhost'), closed);
    expect([closed.connectionError, pool.probing]).toEqual([undefined, 0]);
  });
});
