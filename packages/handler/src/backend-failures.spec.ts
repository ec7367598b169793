import * as http2 from 'node:http2';
import { status, type Client, type StatusObject } from '@grpc/grpc-js';
import { openRawBidi, type CallOutcome } from '@grpc-proxy/testing';
import { entries, eventually } from './test-support/grpc-fixtures';
import { useHarness } from './test-support/harness';
import { respondWithMessage, startRawH2Backend } from './test-support/raw-h2-backend';
import { ECHO } from './test-support/test-backend';

// The copy of grpc-js the suite runs against (the matrix script redirects the import).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const grpcJsVersion = (require('@grpc/grpc-js/package.json') as { version: string }).version;

/**
 * Opens a bidi call, waits for the first response message (so the backend's headers and that
 * message went through the proxy), then lets `afterFirstMessage` break the backend side.
 */
async function callBrokenAfterFirstMessage(
  client: Client,
  method: string,
  afterFirstMessage: () => void,
): Promise<CallOutcome<Buffer>> {
  const session = openRawBidi(client, method);
  session.call.write(Buffer.from('request'));
  await session.nextResponse();
  afterFirstMessage();
  const result = await session.outcome;
  session.call.end();
  return result;
}

describe('a backend that fails after its response headers', () => {
  let stream: http2.ServerHttp2Stream | null = null;
  const h = useHarness({
    startBackend: () =>
      startRawH2Backend((incoming) => {
        stream = incoming;
        respondWithMessage(incoming, Buffer.from('first'));
      }),
  });

  beforeEach(() => {
    stream = null;
  });

  const prefix = (reason: string): string =>
    `grpc-proxy: backend dns:127.0.0.1:${h.backend.port} ${reason}: `;

  async function expectProxyFailure(
    breakBackend: (stream: http2.ServerHttp2Stream) => void,
    code: status,
    details: string,
  ): Promise<void> {
    const outcome = await callBrokenAfterFirstMessage(h.client, '/raw.Service/Method', () =>
      breakBackend(stream!),
    );
    expect(entries(outcome.headers)['x-raw-header']).toEqual(['yes']);
    expect(outcome.responses).toEqual([Buffer.from('first')]);
    expect([outcome.status.code, outcome.status.details]).toEqual([code, details]);
    await eventually(() => h.reports.length === 1, 'observer heard the end');
    expect(h.reports[0]).toMatchObject({ code, details, proxyError: true, messagesToClient: 1 });
  }

  it('reports its connection closing as the proxy failing, with the code grpc-js gives it', async () => {
    // grpc-js 1.13+ tells a dropped connection from a reset stream (grpc/grpc-node#2862, shipped
    // during 1.12.x): UNAVAILABLE "Connection dropped"; before, CANCELLED "Call cancelled".
    const minor = Number(grpcJsVersion.split('.')[1]);
    const [code, reason, details] =
      minor >= 13
        ? [status.UNAVAILABLE, 'unavailable', 'Connection dropped']
        : [status.CANCELLED, 'failed', 'Call cancelled'];
    await expectProxyFailure(
      (backendStream) => backendStream.session!.destroy(),
      code,
      `${prefix(reason)}${details}`,
    );
  });

  it('reports a stream reset (INTERNAL_ERROR) as the proxy failing', async () => {
    await expectProxyFailure(
      (backendStream) => backendStream.close(http2.constants.NGHTTP2_INTERNAL_ERROR),
      status.INTERNAL,
      `${prefix('failed')}Received RST_STREAM with code 2 (Internal server error)`,
    );
  });

  it('reports a stream reset (CANCEL) as the proxy failing', async () => {
    await expectProxyFailure(
      (backendStream) => backendStream.close(http2.constants.NGHTTP2_CANCEL),
      status.CANCELLED,
      `${prefix('failed')}Call cancelled`,
    );
  });

  it('reports a response that ends without trailers as the proxy failing', async () => {
    await expectProxyFailure(
      (backendStream) => {
        backendStream.once('wantTrailers', () => backendStream.sendTrailers({}));
        backendStream.end();
      },
      status.INTERNAL,
      `${prefix('failed')}Received RST_STREAM with code 0 (Call ended without gRPC status)`,
    );
  });

  it('passes a status the backend sent in its trailers unchanged, even without trailer metadata', async () => {
    const outcome = await callBrokenAfterFirstMessage(h.client, '/raw.Service/Method', () => {
      stream!.once('wantTrailers', () =>
        stream!.sendTrailers({ 'grpc-status': '14', 'grpc-message': 'overloaded: try later' }),
      );
      stream!.end();
    });
    expect(outcome.responses).toEqual([Buffer.from('first')]);
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.UNAVAILABLE,
      'overloaded: try later',
    ]);
    expect(entries(outcome.status.metadata)).toEqual({});
    await eventually(() => h.reports.length === 1, 'observer heard the end');
    expect(h.reports[0]).toMatchObject({ code: status.UNAVAILABLE, proxyError: false });
  });
});

describe('a grpc-js backend shut down after its response headers', () => {
  const h = useHarness();

  it('ends the call with a status naming the proxy (the server resets its streams: CANCELLED)', async () => {
    const outcome = await callBrokenAfterFirstMessage(h.client, `${ECHO}/Bidi`, () =>
      h.backend.server.forceShutdown(),
    );
    expect(entries(outcome.headers)['x-header']).toEqual(['header-value']);
    expect(outcome.responses).toEqual([Buffer.from('request')]);
    const final: StatusObject = outcome.status;
    expect([final.code, final.details]).toEqual([
      status.CANCELLED,
      `grpc-proxy: backend dns:${h.backend.target} failed: Call cancelled`,
    ]);
    await eventually(() => h.reports.length === 1, 'observer heard the end');
    expect(h.reports[0]).toMatchObject({ code: final.code, proxyError: true });
    expect(entries(final.metadata)).toEqual({});
  });
});
