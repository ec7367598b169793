import { status, type Client } from '@grpc/grpc-js';
import { createBackendClient } from './backend-client';
import { eventually } from './test-support/grpc-fixtures';
import { startMirrorBackend, type MirrorBackend } from './test-support/mirror-backend';
import { MIRROR_KINDS, useMirrorScene } from './test-support/mirror-scene';
import { useRetryScene, type RefuseWhen } from './test-support/retry-scene';

const CASES = MIRROR_KINDS.flatMap((kind) =>
  (['headers', 'request'] as RefuseWhen[]).map((when) => [kind[0], when, kind] as const),
);

describe('mirror and transparent retries', () => {
  const scene = useRetryScene();
  const h = useMirrorScene();
  let left: MirrorBackend;
  let leftClient: Client;
  beforeEach(async () => {
    left = await startMirrorBackend();
    leftClient = createBackendClient(left.target);
  });
  afterEach(async () => {
    leftClient.close();
    await left.close();
  });

  it.each(CASES)(
    'copies a %s call refused on its %s only to the mirrors of the route it is finally forwarded on',
    async (_name, when, [, method, call, sent, responses]) => {
      const refusing = await scene.refusing(when);
      const refusingClient = scene.clientOf(refusing.target);
      let asks = 0;
      h.director = () =>
        asks++ === 0
          ? { backend: refusingClient, mirror: { backend: leftClient } }
          : h.route({ mirror: { backend: h.mirrorClient } });
      const outcome = await call(h.client, {});
      expect([outcome.status.code, outcome.responses]).toEqual([status.OK, responses]);
      expect(await h.reported()).toEqual([h.copy(method)]);
      expect(h.calls[0]).toMatchObject({ code: status.OK, retries: 1 });
      expect([h.mirror.calls[0].messages, h.mirror.calls[0].halfClosed]).toEqual([sent, true]);
      expect([asks, h.mirror.calls.length, left.calls.length]).toEqual([2, 1, 0]);
    },
  );
});

describe('mirror of a peeked call', () => {
  const h = useMirrorScene();

  it.each(MIRROR_KINDS)(
    'copies a %s call whose director read the first message, that message included',
    async (_kind, method, call, sent, responses) => {
      const peeked: Array<Buffer | null> = [];
      h.director = async (proxyCall) => {
        peeked.push(await proxyCall.firstMessage());
        return h.route({ mirror: { backend: h.mirrorClient } });
      };
      const outcome = await call(h.client, {});
      expect([outcome.status.code, outcome.responses, peeked]).toEqual([
        status.OK,
        responses,
        [sent[0]],
      ]);
      await eventually(() => h.mirrorReports.length === 1, 'the copy reported');
      expect(h.mirrorReports[0]).toMatchObject({ method, outcome: 'completed', code: status.OK });
      expect([h.mirror.calls[0].messages, h.mirror.calls[0].halfClosed]).toEqual([sent, true]);
    },
  );
});
