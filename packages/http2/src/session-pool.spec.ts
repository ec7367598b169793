/** One session per backend target, replaced once the backend sends GOAWAY or the session fails. */
import type { Http2Session } from 'node:http2';
import { Client, credentials, status } from '@grpc/grpc-js';
import { encodeMessage } from '@grpc-proxy/codec';
import { callRawUnary } from '@grpc-proxy/testing';
import { startHttp2Proxy, type RunningProxy } from './test-support/proxy';
import { startRawBackend, type RawBackend } from './test-support/raw-h2';

const METHOD = '/acme.v1.Svc/Do';

describe('backend sessions', () => {
  let backend: RawBackend;
  let proxy: RunningProxy;
  let client: Client;
  let sessions: Http2Session[];
  let goawayAfterAnswer = false;

  beforeEach(async () => {
    sessions = [];
    goawayAfterAnswer = false;
    backend = await startRawBackend((stream) => {
      const session = stream.session!;
      if (!sessions.includes(session)) sessions.push(session);
      stream.resume();
      stream.on('end', () => {
        stream.respond(
          { ':status': 200, 'content-type': 'application/grpc' },
          { waitForTrailers: true },
        );
        stream.on('wantTrailers', () => {
          stream.sendTrailers({ 'grpc-status': '0' });
          // Like a backend that is shutting down: no new streams on this connection.
          if (goawayAfterAnswer) session.goaway();
        });
        stream.end(encodeMessage(Buffer.from(`session ${sessions.indexOf(session)}`)));
      });
    });
    proxy = await startHttp2Proxy(() => ({ backend: { name: 'raw', target: backend.target } }));
    client = new Client(proxy.address, credentials.createInsecure());
  });

  afterEach(async () => {
    client.close();
    await proxy.close();
    await backend.close();
  });

  async function answer(): Promise<string> {
    const outcome = await callRawUnary(client, METHOD, Buffer.from('x'));
    expect(outcome.status.code).toBe(status.OK);
    return outcome.responses[0].toString();
  }

  it('shares one session among calls to the same target', async () => {
    const answers = await Promise.all([answer(), answer(), answer()]);
    expect(answers).toEqual(['session 0', 'session 0', 'session 0']);
    expect(await answer()).toBe('session 0');
    expect(sessions).toHaveLength(1);
  });

  it('opens a new session after the backend sent GOAWAY, and none on the old one', async () => {
    goawayAfterAnswer = true;
    expect(await answer()).toBe('session 0');
    expect(await answer()).toBe('session 1');
    expect(await answer()).toBe('session 2');
    expect(sessions).toHaveLength(3);
  });
});
