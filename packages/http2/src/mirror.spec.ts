/**
 * Mirror (`Route.mirror`) on the http2 engine: every call kind copied to a mirror backend with
 * the mirror header and every message, the primary's answer unchanged, one `onMirrorEnd` per
 * copy; a mirror that answers an error, refuses connections or is cancelled with its call never
 * touches the client's status.
 */
import { createServer } from 'node:net';
import { Metadata, status } from '@grpc/grpc-js';
import {
  ECHO_SERVICE_NAME,
  callBidi,
  callClientStream,
  callEcho,
  callServerStream,
  createEchoClient,
  echoRequest,
  openBidi,
  type CallOutcome,
} from '@grpc-proxy/testing';
import { startMirrorProxy, useMirrorBench } from './test-support/mirror-proxy';
import { startRawBackend } from './test-support/raw-h2';

const HEADER = 'x-grpc-proxy-mirror';
const method = (name: string): string => `/${ECHO_SERVICE_NAME}/${name}`;
const payloads = ['one', 'two', 'three'];
const requests = payloads.map((p) => echoRequest({ payload: Buffer.from(p) }));

/** A port nothing listens on (bound, then freed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('mirror', () => {
  const t = useMirrorBench();
  beforeEach(() => t.start());

  const kinds: Array<
    [string, string[], (settings: { metadata: Metadata }) => Promise<CallOutcome>]
  > = [
    ['Echo', ['one'], (s) => callEcho(t.echo, requests[0], s)],
    [
      'ServerStream',
      ['one'],
      (s) =>
        callServerStream(t.echo, echoRequest({ payload: Buffer.from('one'), responseCount: 3 }), s),
    ],
    ['ClientStream', payloads, (s) => callClientStream(t.echo, requests, s)],
    ['Bidi', payloads, (s) => callBidi(t.echo, requests, s)],
  ];

  it.each(kinds)('%s: the mirror gets the header and every message', async (name, sent, run) => {
    t.mirror = { backend: { name: 'b', target: t.pair.b.address } };
    const metadata = new Metadata();
    metadata.set('tenant', 't1');
    const outcome = await run({ metadata });
    expect(outcome.status.code).toBe(status.OK);
    const responseCount = { Echo: 1, ServerStream: 3, ClientStream: 1, Bidi: 3 }[name];
    expect(outcome.responses).toHaveLength(responseCount!);
    expect(outcome.responses.every((r) => r.serverName === 'a')).toBe(true);
    const reports = await t.proxy.mirrorEnds(1);
    expect(reports).toEqual([
      { method: method(name), backend: 'b', outcome: 'completed', code: status.OK, details: 'OK' },
    ]);
    const copy = await t.pair.b.waitForCall((c) => c.method === method(name) && c.ended);
    expect(copy.requests.map((r) => r.payload.toString())).toEqual(sent);
    expect(copy.metadata.get(HEADER)).toEqual(['1']);
    expect(copy.metadata.get('tenant')).toEqual(['t1']);
    expect(copy.halfClosed).toBe(true);
    const primary = t.pair.a.calls.filter((c) => c.method === method(name));
    expect(primary).toHaveLength(1);
    expect(primary[0].requests.map((r) => r.payload.toString())).toEqual(sent);
    expect(primary[0].metadata.get(HEADER)).toEqual([]);
    await t.proxy.callEnds(1);
    expect(t.proxy.mirrors).toHaveLength(1);
    expect(t.pair.b.calls).toHaveLength(1);
  });

  it('copies no call at percent 0, every call at percent 100', async () => {
    t.mirror = [
      { backend: { name: 'b', target: t.pair.b.address }, percent: 0 },
      { backend: { name: 'b100', target: t.pair.b.address }, percent: 100 },
    ];
    for (let i = 0; i < 5; i++) {
      expect((await callEcho(t.echo, requests[0])).status.code).toBe(status.OK);
    }
    const reports = await t.proxy.mirrorEnds(5);
    expect(reports.map((r) => `${r.backend} ${r.outcome}`)).toEqual(
      Array.from({ length: 5 }, () => 'b100 completed'),
    );
    await t.proxy.callEnds(5);
    expect(t.pair.b.calls).toHaveLength(5);
    expect(t.proxy.mirrors).toHaveLength(5);
  });

  it("a mirror's error status is reported, never sent to the client", async () => {
    t.raw = await startRawBackend((stream) => {
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': String(status.INTERNAL),
          'grpc-message': 'mirror broke',
        },
        { endStream: true },
      );
    });
    t.mirror = { backend: { name: 'raw', target: t.raw.target } };
    const outcome = await callEcho(t.echo, requests[0]);
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses.map((r) => r.payload.toString())).toEqual(['one']);
    expect(await t.proxy.mirrorEnds(1)).toEqual([
      {
        method: method('Echo'),
        backend: 'raw',
        outcome: 'completed',
        code: status.INTERNAL,
        details: 'mirror broke',
      },
    ]);
  });

  it('a mirror that refuses connections fails its copy, the call goes on', async () => {
    const target = `127.0.0.1:${await closedPort()}`;
    t.mirror = { backend: { name: 'gone', target } };
    const outcome = await callBidi(t.echo, requests);
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses.map((r) => r.payload.toString())).toEqual(payloads);
    const [report] = await t.proxy.mirrorEnds(1);
    expect(report).toMatchObject({
      method: method('Bidi'),
      backend: 'gone',
      outcome: 'failed',
      code: status.UNAVAILABLE,
    });
    expect(report.details).toMatch(/^mirror gone (failed|unavailable): .*ECONNREFUSED/);
    await t.proxy.callEnds(1);
    expect(t.proxy.mirrors).toHaveLength(1);
  });

  it("the client's cancel drops the copy", async () => {
    t.mirror = { backend: { name: 'b', target: t.pair.b.address } };
    const session = openBidi(t.echo);
    session.call.write(echoRequest({ payload: Buffer.from('one'), holdUntilCancelled: true }));
    expect((await session.nextResponse()).serverName).toBe('a');
    await t.pair.b.waitForCall((c) => c.method === method('Bidi') && c.requests.length === 1);
    session.call.cancel();
    expect((await session.outcome).status.code).toBe(status.CANCELLED);
    expect(await t.proxy.mirrorEnds(1)).toEqual([
      {
        method: method('Bidi'),
        backend: 'b',
        outcome: 'dropped',
        code: status.CANCELLED,
        details: 'call cancelled',
      },
    ]);
    const copy = await t.pair.b.waitForCancelled('Bidi');
    expect(copy.requests).toHaveLength(1);
  });

  it('a mirror whose connection fails mid-copy fails the copy, the call goes on', async () => {
    const dying = await startRawBackend((stream) => stream.session?.destroy());
    t.raw = dying;
    t.mirror = { backend: { name: 'dying', target: dying.target } };
    const outcome = await callBidi(t.echo, requests);
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses).toHaveLength(3);
    const [report] = await t.proxy.mirrorEnds(1);
    expect(report).toMatchObject({ backend: 'dying', outcome: 'failed', code: status.UNAVAILABLE });
    expect(report.details).toMatch(/^mirror dying failed: /);
  });

  it('a mirror without a backend is an invalid route: the call fails, no copy', async () => {
    t.mirror = { percent: 50 } as never;
    const outcome = await callEcho(t.echo, requests[0]);
    expect(outcome.status.code).toBe(status.INTERNAL);
    expect(outcome.status.details).toBe(
      'grpc-proxy: director returned an invalid route: route.mirror needs a backend',
    );
    await t.proxy.callEnds(1);
    expect(t.proxy.mirrors).toEqual([]);
    expect(t.pair.a.calls).toEqual([]);
  });

  it('a peeked call is copied whole, its first message included', async () => {
    const peeking = await startMirrorProxy(async (call) => {
      await call.firstMessage();
      return {
        backend: { name: 'a', target: t.pair.a.address },
        mirror: { backend: { name: 'b', target: t.pair.b.address } },
      };
    });
    const client = createEchoClient(peeking.address);
    try {
      const outcome = await callBidi(client, requests);
      expect(outcome.status.code).toBe(status.OK);
      expect(outcome.responses.map((r) => r.payload.toString())).toEqual(payloads);
      expect((await peeking.mirrorEnds(1)).map((r) => r.outcome)).toEqual(['completed']);
      const copy = await t.pair.b.waitForCall((c) => c.ended);
      expect(copy.requests.map((r) => r.payload.toString())).toEqual(payloads);
    } finally {
      client.close();
      await peeking.close();
    }
  });

  it('copies made on a backend whose connection failed go on through the transparent retry', async () => {
    const dead = `127.0.0.1:${await closedPort()}`;
    let asked = 0;
    const retrying = await startMirrorProxy(() =>
      asked++ === 0
        ? {
            backend: { name: 'dead', target: dead },
            mirror: { backend: { name: 'b', target: t.pair.b.address } },
          }
        : { backend: { name: 'a', target: t.pair.a.address } },
    );
    const client = createEchoClient(retrying.address);
    try {
      const outcome = await callClientStream(client, requests);
      expect(outcome.status.code).toBe(status.OK);
      expect(outcome.responses[0].serverName).toBe('a');
      const [call] = await retrying.callEnds(1);
      expect(call.retries).toBe(1);
      expect((await retrying.mirrorEnds(1)).map((r) => `${r.backend} ${r.outcome}`)).toEqual([
        'b completed',
      ]);
      const copy = await t.pair.b.waitForCall((c) => c.ended);
      expect(copy.requests.map((r) => r.payload.toString())).toEqual(payloads);
      expect(t.pair.b.calls).toHaveLength(1);
    } finally {
      client.close();
      await retrying.close();
    }
  });
});
