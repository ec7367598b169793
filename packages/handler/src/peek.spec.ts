import { Server, status, type Client } from '@grpc/grpc-js';
import { callRawBidi, callRawClientStream, openRawBidi } from '@grpc-proxy/testing';
import { createBackendClient } from './backend-client';
import type { ProxyCall, Route } from './contracts';
import { registerService } from './handler';
import { ProxyStatusError } from './status-error';
import { eventually } from './test-support/grpc-fixtures';
import { useHarness } from './test-support/harness';
import { bytes, KINDS } from './test-support/peek-kinds';
import { ECHO, startTestBackend, type TestBackend } from './test-support/test-backend';

/** What a director saw of `firstMessage()`: the message, or the rejection. */
type Peeked = { message: Buffer | null } | { error: unknown };

describe('peek: the director reads the first message (grpc-js engine)', () => {
  const h = useHarness({ maxReceiveMessageLength: 1000 });
  let other: TestBackend;
  let otherClient: Client;
  let peeked: Peeked[];
  /** Settles once the director awaits `firstMessage()`. */
  let asked: Promise<void>;
  let onAsked: () => void;

  beforeEach(async () => {
    other = await startTestBackend();
    otherClient = createBackendClient(other.target);
    peeked = [];
    asked = new Promise((resolve) => (onAsked = resolve));
  });
  afterEach(async () => {
    otherClient.close();
    await other.close();
  });

  /** Routes on the first byte: `b` to the other backend, anything else to the harness's. */
  async function byFirstByte(call: ProxyCall): Promise<Route> {
    const waiting = call.firstMessage();
    onAsked();
    try {
      const message = await waiting;
      peeked.push({ message });
      return message?.[0] === 0x62 ? { backend: otherClient } : h.route();
    } catch (error) {
      peeked.push({ error });
      throw error;
    }
  }

  it.each(KINDS)(
    'routes a %s call on its first message, which the backend gets first',
    async (_kind, call, responses, sent) => {
      h.director = byFirstByte;
      const toA = await call(h.client, 'a1');
      const toB = await call(h.client, 'b1');
      const toB2 = await call(h.client, 'b2');
      expect([toA.status.code, toA.responses]).toEqual([status.OK, responses('a1')]);
      expect([toB.status.code, toB.responses]).toEqual([status.OK, responses('b1')]);
      expect([toB2.status.code, toB2.responses]).toEqual([status.OK, responses('b2')]);
      expect(peeked).toEqual([
        { message: bytes('a1')[0] },
        ...bytes('b1', 'b2').map((m) => ({ message: m })),
      ]);
      expect([h.backend.seen.length, other.seen.length]).toEqual([1, 2]);
      await eventually(() => h.reports.length === 3, 'observer heard every end');
      // The peeked message is counted once, like any other.
      expect(h.reports.map((r) => [r.code, r.messagesFromClient])).toEqual([
        [status.OK, sent],
        [status.OK, sent],
        [status.OK, sent],
      ]);
    },
  );

  it.each([
    [
      'client-streaming',
      (client: Client) => callRawClientStream(client, `${ECHO}/ClientStream`, []),
      bytes('n=0:'),
    ],
    ['bidi', (client: Client) => callRawBidi(client, `${ECHO}/Bidi`, []), []],
  ] as const)(
    'resolves null for a %s call half-closed without a message, and forwards the call',
    async (_kind, call, responses) => {
      h.director = byFirstByte;
      const outcome = await call(h.client);
      expect([outcome.status.code, outcome.responses]).toEqual([status.OK, responses]);
      expect(peeked).toEqual([{ message: null }]);
      expect(h.backend.seen).toHaveLength(1);
      expect(h.backend.seen[0].ended).toBe(true);
    },
  );

  it('gives the director the first message while later ones wait, in order', async () => {
    h.director = byFirstByte;
    const session = openRawBidi(h.client, `${ECHO}/Bidi`);
    session.call.write(Buffer.from('b-first'));
    expect(await session.nextResponse()).toEqual(Buffer.from('b-first'));
    session.call.write(Buffer.from('second'));
    expect(await session.nextResponse()).toEqual(Buffer.from('second'));
    session.call.end();
    expect((await session.outcome).status.code).toBe(status.OK);
    expect([h.backend.seen.length, other.seen.length]).toEqual([0, 1]);
  });

  it('still gives the first message to a director that returns its route before it arrives', async () => {
    let late: Promise<Buffer | null> | undefined;
    h.director = (call) => {
      late = call.firstMessage();
      return h.route();
    };
    const outcome = await callRawBidi(h.client, `${ECHO}/Bidi`, bytes('one', 'two', 'three'));
    expect([outcome.status.code, outcome.responses]).toEqual([
      status.OK,
      bytes('one', 'two', 'three'),
    ]);
    expect(await late).toEqual(Buffer.from('one'));
  });

  it('never takes a later message for a director that asks after the call was forwarded', async () => {
    let captured: ProxyCall | undefined;
    h.director = (call) => {
      captured = call;
      return h.route();
    };
    const outcome = await callRawBidi(h.client, `${ECHO}/Bidi`, bytes('one', 'two'));
    expect([outcome.status.code, outcome.responses]).toEqual([status.OK, bytes('one', 'two')]);
    const late = captured!.firstMessage();
    await expect(late).rejects.toBeInstanceOf(ProxyStatusError);
    await expect(late).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      details:
        'grpc-proxy: firstMessage() was called after the call was forwarded; call it before returning the route',
    });
  });

  it('rejects with RESOURCE_EXHAUSTED when the first message is over the limit (grpc-js ends the call)', async () => {
    h.director = byFirstByte;
    const outcome = await callRawBidi(h.client, `${ECHO}/Bidi`, [Buffer.alloc(1001, 0x62)]);
    const expected = {
      code: status.RESOURCE_EXHAUSTED,
      details: 'Received message larger than max (1001 vs 1000)',
    };
    expect(outcome.status).toMatchObject(expected);
    await eventually(() => peeked.length === 1, 'the director heard');
    const [seen] = peeked as [{ error: unknown }];
    expect(seen.error).toBeInstanceOf(ProxyStatusError);
    expect(seen.error).toMatchObject(expected);
    await eventually(() => h.reports.length === 1, 'observer heard the end');
    expect(h.reports[0]).toMatchObject(expected);
    expect([h.backend.seen.length, other.seen.length]).toEqual([0, 0]);
  });

  it("rejects with the engine's RESOURCE_EXHAUSTED on a server whose own limit is larger (registerService)", async () => {
    const server = new Server({ 'grpc.max_receive_message_length': -1 });
    registerService(server, byFirstByte, 'test.Echo', ['Bidi'], { maxReceiveMessageLength: 1000 });
    const { client } = await h.serve(server);
    const outcome = await callRawBidi(client, `${ECHO}/Bidi`, [Buffer.alloc(1001, 0x62)]);
    const expected = {
      code: status.RESOURCE_EXHAUSTED,
      details:
        'grpc-proxy: message from client is 1001 bytes, more than maxReceiveMessageLength (1000)',
    };
    expect(outcome.status).toMatchObject(expected);
    expect(peeked).toHaveLength(1);
    expect((peeked[0] as { error: unknown }).error).toMatchObject(expected);
    expect([h.backend.seen.length, other.seen.length]).toEqual([0, 0]);
  });

  it('rejects with CANCELLED when the client cancels while the director waits', async () => {
    h.director = byFirstByte;
    const session = openRawBidi(h.client, `${ECHO}/Bidi`);
    await asked;
    session.call.cancel();
    expect((await session.outcome).status.code).toBe(status.CANCELLED);
    await eventually(() => peeked.length === 1, 'the director heard');
    expect((peeked[0] as { error: unknown }).error).toMatchObject({
      code: status.CANCELLED,
      details: 'Cancelled by client',
    });
    await eventually(() => h.reports.length === 1, 'observer heard the end');
    expect(h.reports[0]).toMatchObject({ code: status.CANCELLED });
    expect([h.backend.seen.length, other.seen.length, h.releases.length]).toEqual([0, 0, 0]);
  });

  it('rejects with DEADLINE_EXCEEDED when nothing comes before the deadline', async () => {
    h.director = byFirstByte;
    const session = openRawBidi(h.client, `${ECHO}/Bidi`, {
      options: { deadline: Date.now() + 300 },
    });
    const outcome = await session.outcome;
    expect(outcome.status.code).toBe(status.DEADLINE_EXCEEDED);
    await eventually(() => peeked.length === 1, 'the director heard');
    expect((peeked[0] as { error: unknown }).error).toMatchObject({
      code: status.DEADLINE_EXCEEDED,
      details: 'Deadline exceeded',
    });
    await eventually(() => h.reports.length === 1, 'observer heard the end');
    expect(h.reports[0]).toMatchObject({ code: status.DEADLINE_EXCEEDED });
    expect(h.backend.seen).toHaveLength(0);
  });

  it('rejects with the status of a director that timed out, which the client gets', async () => {
    const server = new Server();
    registerService(server, byFirstByte, 'test.Echo', ['Bidi'], { directorTimeoutMs: 100 });
    const { client } = await h.serve(server);
    const session = openRawBidi(client, `${ECHO}/Bidi`);
    const outcome = await session.outcome;
    const expected = {
      code: status.UNAVAILABLE,
      details: 'grpc-proxy: director chose no backend within 100 ms',
    };
    expect(outcome.status).toMatchObject(expected);
    expect(peeked).toHaveLength(1);
    expect((peeked[0] as { error: unknown }).error).toMatchObject(expected);
    session.call.cancel();
  });
});
