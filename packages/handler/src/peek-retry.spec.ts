import { status } from '@grpc/grpc-js';
import { callRawBidi } from '@grpc-proxy/testing';
import { eventually } from './test-support/grpc-fixtures';
import { bytes, KINDS } from './test-support/peek-kinds';
import { useRetryScene } from './test-support/retry-scene';
import { ECHO } from './test-support/test-backend';

describe('peek and transparent retries', () => {
  const scene = useRetryScene();

  it('gives a director that first asks on the retry the held first message', async () => {
    const refusing = await scene.refusing('request');
    const echo = await scene.echo();
    const backends = [scene.clientOf(refusing.target), scene.clientOf(echo.target)];
    const firsts: (Buffer | null)[] = [];
    const client = await scene.proxy(async (ask, proxyCall) => {
      if (ask > 0) firsts.push(await proxyCall.firstMessage());
      return [ask === 0 ? 'refusing' : 'echo', backends[ask === 0 ? 0 : 1]];
    });
    const outcome = await callRawBidi(client, `${ECHO}/Bidi`, bytes('first', 'second'));
    expect([outcome.status.code, outcome.responses]).toEqual([status.OK, bytes('first', 'second')]);
    expect(firsts).toEqual(bytes('first'));
    expect([refusing.streams, echo.seen.length]).toEqual([1, 1]);
  });

  it.each(KINDS)(
    'sends the peeked first message of a %s call again on the retry',
    async (_kind, call, responses) => {
      const received: Buffer[] = [];
      const refusing = await scene.raw((stream) => {
        stream.on('data', (chunk: Buffer) => received.push(chunk));
        stream.on('end', () => stream.close(0x7 /* REFUSED_STREAM */));
      });
      const echo = await scene.echo();
      const backends = [scene.clientOf(refusing.target), scene.clientOf(echo.target)];
      const firsts: (Buffer | null)[] = [];
      const client = await scene.proxy(async (ask, proxyCall) => {
        firsts.push(await proxyCall.firstMessage());
        return [ask === 0 ? 'refusing' : 'echo', backends[ask === 0 ? 0 : 1]];
      });
      const outcome = await call(client, 'first');
      expect([outcome.status.code, outcome.responses]).toEqual([status.OK, responses('first')]);
      expect(firsts).toEqual(bytes('first', 'first'));
      expect(scene.asks).toBe(2);
      // The refused attempt got the message too (a 5-byte gRPC frame header, then the bytes).
      expect(Buffer.concat(received).subarray(5, 10)).toEqual(Buffer.from('first'));
      expect([refusing.streams, echo.seen.length]).toEqual([1, 1]);
      await eventually(() => scene.reports.length === 1, 'observer heard the end');
      expect(scene.reports[0]).toMatchObject({ code: status.OK, retries: 1 });
    },
  );
});
