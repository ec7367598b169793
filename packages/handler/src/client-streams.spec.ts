import { ServerInterceptingCall, status, type ServerInterceptor } from '@grpc/grpc-js';
import { connect, type ClientHttp2Session, type Settings } from 'node:http2';
import { callRawUnary, openRawBidi, type BidiSession } from '@grpc-proxy/testing';
import { createProxyServer } from './server';
import { bindLocal, eventually, type RunningServer } from './test-support/grpc-fixtures';
import { useBackend, useHarness } from './test-support/harness';
import { ECHO } from './test-support/test-backend';

const HANG = `${ECHO}/Hang`;

describe('calls per client connection on the grpc-js engine', () => {
  describe('with maxConcurrentStreams 2', () => {
    const h = useBackend();
    let directed: number;
    let arrived: number;
    let calls: BidiSession<Buffer, Buffer>[];
    afterEach(async () => {
      for (const call of calls) call.call.cancel();
      await Promise.all(calls.map((call) => call.outcome));
    });

    it('runs 2 calls of a connection; the others wait, unseen by the director, and start in order', async () => {
      [directed, arrived, calls] = [0, 0, []];
      // Counts the calls grpc-js hands the proxy, before the handler sees them.
      const arrival: ServerInterceptor = (_method, call) => {
        arrived++;
        return new ServerInterceptingCall(call);
      };
      const { client } = await h.serve(
        createProxyServer({
          director: () => (directed++, { backend: h.backendClient }),
          maxConcurrentStreams: 2,
          serverOptions: { interceptors: [arrival] },
        }),
      );
      const open = () => {
        const call = openRawBidi(client, HANG);
        calls.push(call);
        return call;
      };
      const [first, second, third, fourth] = [open(), open(), open(), open()];
      await eventually(() => arrived === 4, 'four calls arrived');
      // Calls start in a batch one turn after they arrive: this runs after it.
      await new Promise(setImmediate);
      expect(directed).toBe(2);
      await eventually(() => h.backend.seen.length === 2, 'two calls reached the backend');
      // The fourth leaves while waiting: it never reaches the director.
      fourth.call.cancel();
      expect((await fourth.outcome).status.code).toBe(status.CANCELLED);
      first.call.cancel();
      await eventually(() => h.backend.seen.length === 3, 'the third call started');
      second.call.cancel();
      await eventually(() => h.backend.seen[1].cancelled, 'the second call cancelled');
      expect(directed).toBe(3);
      expect(third.headersReceived()).toBe(false);
    });
  });

  describe('announced limit', () => {
    let proxy: RunningServer | undefined;
    let session: ClientHttp2Session | undefined;
    afterEach(async () => {
      session?.destroy();
      await proxy?.close();
    });

    it.each([
      [{}, 200],
      [{ maxConcurrentStreams: 2 }, 4],
    ])('announces twice maxConcurrentStreams (%j: %d)', async (options, announced) => {
      proxy = await bindLocal(createProxyServer({ director: () => ({}) as never, ...options }));
      session = connect(`http://${proxy.target}`);
      session.on('error', () => undefined);
      const settings = await new Promise<Settings>((resolve) =>
        session!.once('remoteSettings', resolve),
      );
      expect(settings.maxConcurrentStreams).toBe(announced);
    });
  });

  describe('a client running more calls than the limit and cancelling some', () => {
    const h = useHarness();

    it('loses no call it did not cancel: 400 calls through 100 slots, every tenth cancelled', async () => {
      // 400 calls at once on one connection (200 announced: the client holds the others), every
      // tenth one left hanging and cancelled 5 ms later: up to 100 wait at the proxy, each starting
      // as a slot frees, cancelled ones leaving theirs.
      const outcomes = await Promise.all(
        Array.from({ length: 400 }, async (_, i) => {
          if (i % 10 !== 0) {
            return (await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from([i % 256]))).status;
          }
          const call = openRawBidi(h.client, HANG);
          const timer = setTimeout(() => call.call.cancel(), 5);
          const outcome = await call.outcome;
          clearTimeout(timer);
          return outcome.status;
        }),
      );
      const failed = outcomes
        .map(({ code, details }, i) => [i, code, details])
        .filter(([i, code]) => code !== (Number(i) % 10 === 0 ? status.CANCELLED : status.OK));
      expect(failed).toEqual([]);
    });
  });
});
