import { status } from '@grpc/grpc-js';
import { callRawBidi, callRawUnary, openRawBidi, useProcessWarnings } from '@grpc-proxy/testing';
import { createBackendClient } from './backend-client';
import type { Backend } from './contracts';
import { MIRROR_BUFFER_BYTES } from './mirror-routes';
import { entries, eventually } from './test-support/grpc-fixtures';
import { MIRROR_FAILURE, startMirrorBackend } from './test-support/mirror-backend';
import { MIRROR_KINDS, testMetadata, useMirrorScene } from './test-support/mirror-scene';
import { ECHO } from './test-support/test-backend';

describe('mirror (grpc-js engine)', () => {
  const h = useMirrorScene();
  const mirrored = () => h.route({ mirror: { backend: h.mirrorClient } });

  it.each(MIRROR_KINDS)(
    'copies a %s call: the same messages, metadata and deadline plus the mirror header; the client gets the backend answer',
    async (_kind, method, call, sent, responses) => {
      h.director = mirrored;
      const deadline = Date.now() + 20_000;
      const outcome = await call(h.client, { metadata: testMetadata(), options: { deadline } });
      expect([outcome.status.code, outcome.status.details, outcome.responses]).toEqual([
        status.OK,
        'OK',
        responses,
      ]);
      expect(await h.reported()).toEqual([h.copy(method)]);
      expect(h.mirror.calls).toHaveLength(1);
      const [copy] = h.mirror.calls;
      const [primary] = h.backend.seen;
      expect([copy.method, copy.messages, copy.halfClosed]).toEqual([method, sent, true]);
      expect(entries(copy.metadata)).toEqual({
        ...entries(primary.metadata),
        'x-grpc-proxy-mirror': ['1'],
      });
      expect(entries(primary.metadata)['x-grpc-proxy-mirror']).toBeUndefined();
      expect(entries(copy.metadata)['x-test']).toEqual(['v']);
      expect(Math.abs(copy.deadline - primary.deadline)).toBeLessThan(1000);
      expect(h.calls).toHaveLength(1);
      expect(h.calls[0]).toMatchObject({ code: status.OK, messagesFromClient: sent.length });
    },
  );

  it('copies to every mirror kept by its percent: 0 never, 100 always', async () => {
    const other = await startMirrorBackend();
    const otherClient = createBackendClient(other.target);
    try {
      h.director = () =>
        h.route({
          mirror: [
            { backend: otherClient, percent: 0 },
            { backend: h.mirrorClient, percent: 100 },
          ],
        });
      for (let i = 0; i < 3; i++) {
        const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('x'));
        expect(outcome.status.code).toBe(status.OK);
      }
      await eventually(() => h.mirrorReports.length === 3, 'three copies reported');
      expect(h.mirrorReports.map((report) => [report.backend, report.outcome])).toEqual(
        Array(3).fill([`dns:${h.mirror.target}`, 'completed']),
      );
      expect([h.mirror.calls.length, other.calls.length]).toEqual([3, 0]);
    } finally {
      otherClient.close();
      await other.close();
    }
  });

  it('makes nothing for a route whose only mirror has percent 0', async () => {
    h.director = () => h.route({ mirror: { backend: h.mirrorClient, percent: 0 } });
    const outcome = await callRawBidi(h.client, `${ECHO}/Bidi`, [Buffer.from('a')]);
    expect(outcome.status.code).toBe(status.OK);
    await eventually(() => h.calls.length === 1, 'the call reported');
    // A second, mirrored call reports after the first would have: nothing came of the first.
    h.director = mirrored;
    await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('x'));
    await eventually(() => h.mirrorReports.length === 1, 'the mirrored call reported');
    expect(h.mirror.calls.map((call) => call.method)).toEqual([`${ECHO}/Unary`]);
  });

  it('drops the copy to a mirror that never reads past MIRROR_BUFFER_BYTES; the call gets every message', async () => {
    h.mirror.mode = 'never-read';
    h.director = mirrored;
    const messages = Array.from({ length: 40 }, (_, i) => Buffer.alloc(64 * 1024, i));
    const outcome = await callRawBidi(h.client, `${ECHO}/Bidi`, messages);
    expect([outcome.status.code, outcome.responses.length]).toEqual([status.OK, 40]);
    expect(Buffer.concat(outcome.responses).equals(Buffer.concat(messages))).toBe(true);
    const behind = `mirror dns:${h.mirror.target} fell behind: more than ${MIRROR_BUFFER_BYTES} bytes not taken`;
    expect(await h.reported()).toEqual([
      h.copy(`${ECHO}/Bidi`, 'dropped', status.CANCELLED, behind),
    ]);
    await eventually(() => h.mirror.calls[0]?.cancelled === true, 'the copy cancelled');
    expect(h.mirror.calls[0].messages).toEqual([]);
  });

  it('reports a mirror refusing connections as failed; the call is OK', async () => {
    const gone = await startMirrorBackend();
    await gone.close();
    const goneClient = createBackendClient(gone.target);
    try {
      h.director = () => h.route({ mirror: { backend: goneClient } });
      const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('x'));
      expect([outcome.status.code, outcome.responses]).toEqual([
        status.OK,
        [Buffer.from('echo:x')],
      ]);
      await eventually(() => h.mirrorReports.length === 1, 'the copy reported');
      expect(h.mirrorReports[0]).toEqual({
        method: `${ECHO}/Unary`,
        backend: `dns:${gone.target}`,
        outcome: 'failed',
        code: status.UNAVAILABLE,
        details: expect.stringMatching(
          new RegExp(`^mirror dns:${gone.target} failed: No connection established`),
        ),
      });
    } finally {
      goneClient.close();
    }
  });

  it('fails a copy to a mirror out of rotation at once, without a call', async () => {
    let clients = 0;
    const down: Backend = {
      name: 'down-mirror',
      client: () => {
        clients++;
        return h.mirrorClient;
      },
      isAvailable: () => false,
    };
    h.director = () => h.route({ mirror: { backend: down } });
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('x'));
    expect(outcome.status.code).toBe(status.OK);
    await eventually(() => h.mirrorReports.length === 1, 'the copy reported');
    expect(h.mirrorReports).toEqual([
      {
        method: `${ECHO}/Unary`,
        backend: 'down-mirror',
        outcome: 'failed',
        code: status.UNAVAILABLE,
        details: 'mirror down-mirror unavailable: out of rotation',
      },
    ]);
    expect([clients, h.mirror.calls.length]).toEqual([0, 0]);
  });

  it("never gives the client the mirror's error status", async () => {
    h.mirror.mode = 'fail';
    h.director = mirrored;
    const outcome = await callRawBidi(h.client, `${ECHO}/Bidi`, [Buffer.from('a')]);
    expect([outcome.status.code, outcome.status.details, outcome.responses]).toEqual([
      status.OK,
      'OK',
      [Buffer.from('a')],
    ]);
    await eventually(() => h.mirrorReports.length === 1, 'the copy reported');
    expect(h.mirrorReports[0]).toMatchObject({
      outcome: 'completed',
      code: status.ABORTED,
      details: MIRROR_FAILURE,
    });
    expect(h.calls.map((call) => call.code)).toEqual([status.OK]);
  });

  it("drops the copies when the client cancels; the mirror's call is cancelled", async () => {
    h.mirror.mode = 'hang';
    h.director = mirrored;
    const session = openRawBidi(h.client, `${ECHO}/Bidi`);
    session.call.write(Buffer.from('a'));
    expect(await session.nextResponse()).toEqual(Buffer.from('a'));
    await eventually(() => h.mirror.calls[0]?.messages.length === 1, 'the copy has the message');
    session.call.cancel();
    await eventually(() => h.mirrorReports.length === 1, 'the copy reported');
    expect(h.mirrorReports[0]).toMatchObject({
      outcome: 'dropped',
      code: status.CANCELLED,
      details: 'grpc-proxy: client went away',
    });
    await eventually(() => h.mirror.calls[0].cancelled, 'the copy cancelled at the mirror');
  });
});

describe('mirror outliving its call', () => {
  const h = useMirrorScene({ mirrorTimeoutMs: 50 });

  it('is dropped mirrorTimeoutMs after the call ended, with the half-close passed on', async () => {
    h.mirror.mode = 'hang';
    h.director = () => h.route({ mirror: { backend: h.mirrorClient } });
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('x'));
    expect(outcome.status.code).toBe(status.OK);
    const late = 'mirror still running 50 ms after the call ended';
    expect(await h.reported()).toEqual([
      h.copy(`${ECHO}/Unary`, 'dropped', status.CANCELLED, late),
    ]);
    await eventually(() => h.mirror.calls[0].cancelled, 'the copy cancelled at the mirror');
    expect([h.mirror.calls[0].messages, h.mirror.calls[0].halfClosed]).toEqual([
      [Buffer.from('x')],
      true,
    ]);
  });
});

describe('mirror misuse', () => {
  const warnings = useProcessWarnings();
  let thrown = 0;
  const h = useMirrorScene({
    observer: {
      onMirrorEnd: () => {
        thrown++;
        throw new Error('observer bug');
      },
    },
  });

  it('fails a call whose route has a mirror percent out of range as an invalid route', async () => {
    h.director = () => h.route({ mirror: { backend: h.mirrorClient, percent: 150 } });
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('x'));
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.INTERNAL,
      'grpc-proxy: director returned an invalid route: route.mirror percent must be a number from 0 to 100, got 150',
    ]);
    expect([h.backend.seen.length, h.mirror.calls.length, h.releases.length]).toEqual([0, 0, 1]);
  });

  it('warns of an onMirrorEnd that throws; the call is not touched', async () => {
    thrown = 0;
    h.director = () => h.route({ mirror: { backend: h.mirrorClient } });
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('x'));
    expect(outcome.status.code).toBe(status.OK);
    await eventually(() => thrown === 1, 'the observer heard the copy');
    expect(warnings).toEqual(['observer.onMirrorEnd threw: observer bug']);
  });
});
