import { status } from '@grpc/grpc-js';
import { connect, constants, type ClientHttp2Session } from 'node:http2';
import { encodeMessage } from '@grpc-proxy/codec';
import { eventually } from './test-support/grpc-fixtures';
import { useHarness } from './test-support/harness';
import { ECHO } from './test-support/test-backend';

/** What a raw stream of a zero-window reader learnt when it closed. */
interface Closed {
  rstCode: number;
  grpcStatus: string | undefined;
  grpcMessage: string | undefined;
}

/**
 * A client connection announcing a stream window of 0 and never opening it: the proxy may send
 * headers and trailers (not flow-controlled) but no message byte.
 */
function zeroWindowSession(target: string): ClientHttp2Session {
  const session = connect(`http://${target}`, { settings: { initialWindowSize: 0 } });
  session.on('error', () => undefined);
  return session;
}

/** Opens a call of `path` sending `message` (and the half-close with `end`). */
function openCall(session: ClientHttp2Session, path: string, message: Buffer, end: boolean) {
  const stream = session.request({
    ':method': 'POST',
    ':path': path,
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  stream.on('error', () => undefined);
  const closed = new Promise<Closed>((resolve) => {
    let fields: Record<string, unknown> = {};
    const keep = (headers: Record<string, unknown>) => (fields = { ...fields, ...headers });
    stream.on('response', keep);
    stream.on('trailers', keep);
    stream.on('close', () =>
      resolve({
        rstCode: stream.rstCode ?? constants.NGHTTP2_NO_ERROR,
        grpcStatus: fields['grpc-status'] as string | undefined,
        grpcMessage:
          fields['grpc-message'] === undefined
            ? undefined
            : decodeURIComponent(fields['grpc-message'] as string),
      }),
    );
  });
  if (end) stream.end(encodeMessage(message));
  else stream.write(encodeMessage(message));
  return { stream, closed };
}

describe('zero-window readers on the grpc-js engine', () => {
  describe('the stall timeout', () => {
    const h = useHarness({ clientStallTimeoutMs: 200 });
    let session: ClientHttp2Session;
    afterEach(() => session.destroy());

    it('resets a stream whose replies wait clientStallTimeoutMs and cancels the backend call', async () => {
      session = zeroWindowSession(h.proxy.target);
      const startedAt = Date.now();
      // The backend echoes 2 000 bytes the client never takes, and goes on (no half-close).
      const { closed } = openCall(session, `${ECHO}/EchoForever`, Buffer.alloc(2000, 1), false);
      const seen = await closed;
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(200);
      expect(seen).toEqual({
        rstCode: constants.NGHTTP2_CANCEL,
        grpcStatus: undefined,
        grpcMessage: undefined,
      });
      await eventually(() => h.backend.seen[0]?.cancelled === true, 'backend call cancelled');
      await eventually(() => h.reports.length === 1, 'observer heard the end');
      expect(h.reports[0]).toMatchObject({
        code: status.CANCELLED,
        details: 'grpc-proxy: the client read nothing for 200 ms (clientStallTimeoutMs)',
        proxyError: true,
      });
      // The connection stays: a call without a message to send still completes on it.
      const after = openCall(session, `${ECHO}/TrailersOnly`, Buffer.alloc(0), true);
      expect((await after.closed).grpcStatus).toBe(String(status.NOT_FOUND));
    });
  });

  describe('the unsent-bytes budget', () => {
    // The sweep runs every 500 ms: the held call counts once it sent nothing for two sweeps,
    // and is reset 2 s later.
    const h = useHarness({ maxClientBufferBytes: 1000, clientStallTimeoutMs: 2000 });
    let session: ClientHttp2Session;
    afterEach(() => session.destroy());

    it('refuses (REFUSED_STREAM) new calls of a connection whose stalled calls hold more than maxClientBufferBytes', async () => {
      session = zeroWindowSession(h.proxy.target);
      const held = openCall(session, `${ECHO}/EchoForever`, Buffer.alloc(2000, 1), false);
      // The echo waits unsent from a few turns on, and counts once a whole sweep sent none of
      // it: until then calls still start (each answered trailers-only, so it adds no byte).
      let refused: Closed | undefined;
      let answered = 0;
      for (let attempt = 0; attempt < 10_000 && refused === undefined; attempt++) {
        const probe = await openCall(session, `${ECHO}/TrailersOnly`, Buffer.alloc(0), true).closed;
        if (probe.grpcStatus === String(status.NOT_FOUND)) answered++;
        else refused = probe;
      }
      // Refused before the handler's call began: no status, no director, no report.
      expect(refused).toEqual({
        rstCode: constants.NGHTTP2_REFUSED_STREAM,
        grpcStatus: undefined,
        grpcMessage: undefined,
      });
      expect(h.reports.map((report) => report.code)).toEqual(
        Array.from({ length: answered }, () => status.NOT_FOUND),
      );
      // Only the held call and the probes that started reached the backend.
      expect(h.backend.seen.filter((call) => call.method === `${ECHO}/EchoForever`)).toHaveLength(
        1,
      );
      expect(h.backend.seen).toHaveLength(1 + answered);
      expect(h.backend.seen[0].cancelled).toBe(false);
      held.stream.close(constants.NGHTTP2_CANCEL);
      await eventually(() => h.backend.seen[0].cancelled, 'backend call cancelled');
    });
  });
});
