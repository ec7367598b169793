import { status, type Client } from '@grpc/grpc-js';
import { constants } from 'node:http2';
import { callRawUnary, openRawBidi } from '@grpc-proxy/testing';
import { createProxyServer } from './server';
import { eventually, rawClient } from './test-support/grpc-fixtures';
import { useHarness } from './test-support/harness';
import { RawH2Client, callHeaders, cancelStream } from './test-support/raw-h2-client';
import { ECHO } from './test-support/test-backend';

const HANG = `${ECHO}/Hang`;

describe('rapid reset on the grpc-js engine', () => {
  const h = useHarness({ maxClientResetsPerSecond: 10 });
  let directed: string[];
  let raw: RawH2Client[];
  beforeEach(() => {
    directed = [];
    raw = [];
    h.director = (call) => {
      directed.push(call.method);
      return h.route();
    };
  });
  afterEach(() => raw.forEach((client) => client.destroy()));

  async function attacker(): Promise<RawH2Client> {
    const client = await RawH2Client.open(h.proxy.target);
    raw.push(client);
    return client;
  }

  /** HEADERS and RST_STREAM of `count` streams from `firstId`, in one write's worth of frames. */
  function resetPairs(firstId: number, count: number): Buffer[] {
    return Array.from({ length: count }, (_, i) => [
      callHeaders(firstId + 2 * i, HANG),
      cancelStream(firstId + 2 * i),
    ]).flat();
  }

  /** `count` calls of `client`, one after the other, each cancelled once at the backend. */
  async function cancelOnceStarted(client: Client, count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const seen = h.backend.seen.length;
      const call = openRawBidi(client, HANG);
      await eventually(() => h.backend.seen.length === seen + 1, 'the call reached the backend');
      call.call.cancel();
      await call.outcome;
    }
  }

  it('starts a call a turn after it arrived: one reset in the same read reaches no director nor backend', async () => {
    const client = await attacker();
    // 8 resets (under the limit of 10), then a call that stays: only that one is started.
    client.send(...resetPairs(1, 8), callHeaders(17, HANG));
    await eventually(() => h.backend.seen.length === 1, 'the call left open reached the backend');
    expect(directed).toEqual([HANG]);
    expect(await client.waitClosed(50)).toBe(false);
  });

  it('closes a connection past maxClientResetsPerSecond with GOAWAY(ENHANCE_YOUR_CALM); no backend call', async () => {
    const healthy = openRawBidi(h.client, HANG);
    await eventually(() => h.backend.seen.length === 1, 'the healthy call reached the backend');
    const client = await attacker();
    client.send(...resetPairs(1, 20));
    expect(await client.waitClosed(2000)).toBe(true);
    expect(client.goawayCode).toBe(constants.NGHTTP2_ENHANCE_YOUR_CALM);
    expect(directed).toEqual([HANG]);
    expect(h.backend.seen).toHaveLength(1);
    // Another client's call on its own connection goes on, and new calls succeed.
    const ok = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('after'));
    expect(ok.status.code).toBe(status.OK);
    expect(healthy.headersReceived()).toBe(false);
    healthy.call.cancel();
    expect((await healthy.outcome).status.code).toBe(status.CANCELLED);
  });

  it('cuts a grpc-js client that cancels more calls before their answer than it lets finish, plus the limit', async () => {
    const client = rawClient(h.proxy.target);
    try {
      const running = openRawBidi(client, HANG);
      await eventually(() => h.backend.seen.length === 1, 'the long call reached the backend');
      await cancelOnceStarted(client, 11);
      // The 11th cancellation before an answer: GOAWAY(ENHANCE_YOUR_CALM), the connection closes
      // and the call still running on it with it.
      const outcome = await running.outcome;
      expect([outcome.status.code, outcome.status.details]).toEqual([
        status.RESOURCE_EXHAUSTED,
        'Bandwidth exhausted or memory limit exceeded',
      ]);
    } finally {
      client.close();
    }
  });

  it('never cuts a client whose cancellations stay within the calls it let finish plus the limit', async () => {
    const client = rawClient(h.proxy.target);
    try {
      const running = openRawBidi(client, HANG);
      await eventually(() => h.backend.seen.length === 1, 'the long call reached the backend');
      for (let i = 0; i < 8; i++) {
        const ok = await callRawUnary(client, `${ECHO}/Unary`, Buffer.from([i]));
        expect(ok.status.code).toBe(status.OK);
      }
      // 15 cancellations before an answer, within 10 + the 8 calls that finished.
      await cancelOnceStarted(client, 15);
      const ok = await callRawUnary(client, `${ECHO}/Unary`, Buffer.from('still'));
      expect(ok.status.code).toBe(status.OK);
      // The connection is the same: the long call runs on it still.
      expect(h.reports.filter((report) => report.code === status.CANCELLED)).toHaveLength(15);
      running.call.cancel();
      expect((await running.outcome).status.code).toBe(status.CANCELLED);
    } finally {
      client.close();
    }
  });

  it('refuses invalid limits with a RangeError naming the option', () => {
    const director = () => h.route();
    expect(() => createProxyServer({ director, maxClientBufferBytes: 0 })).toThrow(
      new RangeError('maxClientBufferBytes must be an integer from 1 to 9007199254740991, got 0'),
    );
    expect(() => createProxyServer({ director, maxClientResetsPerSecond: 1.5 })).toThrow(
      new RangeError(
        'maxClientResetsPerSecond must be an integer from 0 to 9007199254740991, got 1.5',
      ),
    );
    expect(() => createProxyServer({ director, clientStallTimeoutMs: -1 })).toThrow(
      new RangeError('clientStallTimeoutMs must be an integer from 0 to 9007199254740991, got -1'),
    );
  });
});

describe('rapid reset on the grpc-js engine, resets counted as they arrive', () => {
  const h = useHarness({ maxClientResetsPerSecond: 300 });
  let client: RawH2Client | undefined;
  afterEach(() => client?.destroy());

  /** HEADERS and RST_STREAM of `count` streams from `firstId` (135 bytes a pair). */
  function resetPairs(firstId: number, count: number): Buffer[] {
    return Array.from({ length: count }, (_, i) => [
      callHeaders(firstId + 2 * i, HANG),
      cancelStream(firstId + 2 * i),
    ]).flat();
  }

  /*
   * Node reads a connection 64 KiB at a time, and while its receive buffer is full, reads on
   * (here ~950 pairs) before any immediate runs; nghttp2 closes a connection at its 1 001st
   * RST_STREAM with GOAWAY(INTERNAL_ERROR), and a GOAWAY the guard asks for goes out only once
   * Node processed the whole 64 KiB read. Counted a turn later, 250 + 1 250 resets would pass
   * 1 000 before the guard's count passed 300; counted as each stream closes, the guard's GOAWAY
   * comes at the 301st, at most one read (485 pairs) before nghttp2 counts 1 000.
   */
  it('cuts with ENHANCE_YOUR_CALM, ahead of Node’s own reset limit, resets that a read brings by the thousand', async () => {
    client = await RawH2Client.open(h.proxy.target);
    // 250 resets, then a call that stays: once it reached the backend, the resets were seen.
    client.send(...resetPairs(1, 250), callHeaders(501, HANG));
    await eventually(() => h.backend.seen.length === 1, 'the call left open reached the backend');
    // 1 250 more in one write (~170 KB): Node reads them in a few 64 KiB reads, in one go.
    client.send(...resetPairs(503, 1250));
    expect(await client.waitClosed(2000)).toBe(true);
    expect(client.goawayCode).toBe(constants.NGHTTP2_ENHANCE_YOUR_CALM);
    expect(h.backend.seen.map((call) => call.method)).toEqual([HANG]);
    await eventually(
      () => h.backend.seen[0].cancelled,
      'the open call cancelled with its connection',
    );
  });
});
