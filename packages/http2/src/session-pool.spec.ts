/** One session per backend target, replaced once the backend sends GOAWAY or the session fails. */
import type { Http2Session } from 'node:http2';
import { Client, credentials, status } from '@grpc/grpc-js';
import { encodeMessage } from '@grpc-proxy/codec';
import {
  callEcho,
  callRawUnary,
  createEchoClient,
  echoRequest,
  openBidi,
  startEchoServer,
} from '@grpc-proxy/testing';
import { startHttp2Proxy } from './test-support/proxy';
import {
  answerGrpc,
  rawRequest,
  rawSession,
  startRawBackend,
  type RawBackend,
} from './test-support/raw-h2';
import { useRawProxy } from './test-support/raw-proxy';
import { createHttp2Proxy } from './server';
import { startRelay } from './test-support/relay';

const METHOD = '/acme.v1.Svc/Do';

describe('backend sessions', () => {
  const raw = useRawProxy();
  let backend: RawBackend;
  let client: Client;
  let sessions: Http2Session[];
  let goawayAfterAnswer = false;

  beforeEach(async () => {
    sessions = [];
    goawayAfterAnswer = false;
    ({ backend, client } = await raw.start((stream) => {
      const session = stream.session!;
      if (!sessions.includes(session)) sessions.push(session);
      stream.resume();
      stream.on('end', () =>
        answerGrpc(stream, Buffer.from(`session ${sessions.indexOf(session)}`), () => {
          // Like a backend that is shutting down: no new streams on this connection.
          if (goawayAfterAnswer) session.goaway();
        }),
      );
    }));
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

  it('closes a session idle for backendIdleTimeoutMs; the next call opens a new one', async () => {
    const idle = await startHttp2Proxy(
      () => ({ backend: { name: 'raw', target: backend.target } }),
      { backendIdleTimeoutMs: 100 },
    );
    const idleClient = new Client(idle.address, credentials.createInsecure());
    try {
      const call = () => callRawUnary(idleClient, METHOD, Buffer.from('x'));
      expect((await call()).responses[0].toString()).toBe('session 0');
      await new Promise((resolve) => sessions[0].once('close', resolve));
      expect((await call()).responses[0].toString()).toBe('session 1');
    } finally {
      idleClient.close();
      await idle.close();
    }
  });

  it('keeps a session whose only call is quiet for longer than backendIdleTimeoutMs', async () => {
    const idle = await startHttp2Proxy(
      () => ({ backend: { name: 'raw', target: backend.target } }),
      { backendIdleTimeoutMs: 100 },
    );
    const idleClient = new Client(idle.address, credentials.createInsecure());
    try {
      const identity = (bytes: Buffer): Buffer => bytes;
      const answered = new Promise<string>((resolve, reject) => {
        const call = idleClient.makeClientStreamRequest(
          METHOD,
          identity,
          identity,
          (error, response) => (error ? reject(error) : resolve(response!.toString())),
        );
        // The elapsed time is what this tests: three idle timeouts with the call open and quiet.
        setTimeout(() => call.end(), 300);
      });
      expect(await answered).toBe('session 0');
      // At once, before the idle timeout runs again: the session it ran on takes the next call.
      const next = await callRawUnary(idleClient, METHOD, Buffer.from('x'));
      expect(next.responses[0].toString()).toBe('session 0');
      expect(sessions).toHaveLength(1);
    } finally {
      idleClient.close();
      await idle.close();
    }
  });

  it('opens a new session after the backend sent GOAWAY, and none on the old one', async () => {
    goawayAfterAnswer = true;
    expect(await answer()).toBe('session 0');
    expect(await answer()).toBe('session 1');
    expect(await answer()).toBe('session 2');
    expect(sessions).toHaveLength(3);
  });
});

describe('a backend that limits concurrent streams', () => {
  it('gets a new session when every session has SETTINGS_MAX_CONCURRENT_STREAMS streams', async () => {
    const CALLS = 5;
    const sessions = new Set<Http2Session>();
    const waiting: Array<() => void> = [];
    let firstArrived: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => (firstArrived = resolve));
    // Holds every stream until all the calls are in, then answers them all: with sessions that
    // took no more than 2 streams each, that needs 3 sessions.
    const backend = await startRawBackend(
      (stream) => {
        sessions.add(stream.session!);
        stream.resume();
        waiting.push(() => answerGrpc(stream, Buffer.from('ok')));
        firstArrived();
        if (waiting.length === CALLS) for (const send of waiting) send();
      },
      { maxConcurrentStreams: 2 },
    );
    const proxy = await startHttp2Proxy(() => ({ backend: { target: backend.target } }));
    const client = new Client(proxy.address, credentials.createInsecure());
    try {
      // The first call alone, so that the backend's SETTINGS are known before the burst.
      const first = callRawUnary(client, METHOD, Buffer.from('x'), {
        options: { deadline: Date.now() + 5000 },
      });
      await arrived;
      const rest = Array.from({ length: CALLS - 1 }, () =>
        callRawUnary(client, METHOD, Buffer.from('x'), {
          options: { deadline: Date.now() + 5000 },
        }),
      );
      const outcomes = await Promise.all([first, ...rest]);
      expect(outcomes.map((o) => o.status.code)).toEqual(Array(CALLS).fill(status.OK));
      expect(sessions.size).toBe(3);
    } finally {
      client.close();
      await proxy.close();
      await backend.close();
    }
  });
});

describe('keepalive pings towards backends', () => {
  it('ends the calls of a session whose pings go unanswered, and reconnects', async () => {
    const backend = await startEchoServer({ name: 'echo-backend' });
    const relay = await startRelay(backend.address);
    const proxy = await startHttp2Proxy(
      () => ({ backend: { name: 'relayed', target: relay.target } }),
      {
        backendKeepaliveMs: 50,
        backendKeepaliveTimeoutMs: 100,
      },
    );
    const client = createEchoClient(proxy.address);
    try {
      const session = openBidi(client);
      session.call.write(echoRequest({ payload: Buffer.from('held'), holdUntilCancelled: true }));
      await session.nextResponse();
      relay.freeze(); // the connection is open but dead: no ping is answered
      const outcome = await session.outcome;
      expect([outcome.status.code, outcome.status.details]).toEqual([
        status.UNAVAILABLE,
        'grpc-proxy: backend relayed unavailable: keepalive ping not answered within 100 ms',
      ]);
      // A new connection through the relay, which passes bytes again.
      expect((await callEcho(client, echoRequest())).status.code).toBe(status.OK);
    } finally {
      client.close();
      await proxy.close();
      await relay.close();
      backend.forceClose();
    }
  });
});

describe('connectionWindowSize', () => {
  it('widens the connection window of the sessions on both sides', async () => {
    const WINDOW = 4 * 1024 * 1024;
    let backendSees = 0;
    const backend = await startRawBackend((stream) => {
      // What the backend may send before a WINDOW_UPDATE: the proxy's connection window.
      backendSees = stream.session!.state.remoteWindowSize ?? 0;
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '0' },
        {
          endStream: true,
        },
      );
    });
    const proxy = await startHttp2Proxy(() => ({ backend: { target: backend.target } }), {
      connectionWindowSize: WINDOW,
    });
    const session = rawSession(proxy.address);
    try {
      const answer = await rawRequest(
        session,
        { ':method': 'POST', ':path': METHOD, 'content-type': 'application/grpc' },
        encodeMessage(Buffer.from('x')),
      );
      expect(answer.headers['grpc-status']).toBe('0');
      expect(backendSees).toBe(WINDOW);
      // Less the request's bytes, not yet given back.
      expect(session.state.remoteWindowSize).toBe(WINDOW - 6);
    } finally {
      session.destroy();
      await proxy.close();
      await backend.close();
    }
  });

  it('refuses a window below the HTTP/2 initial one', () => {
    expect(() =>
      createHttp2Proxy({
        director: () => ({ backend: { target: 'x:1' } }),
        connectionWindowSize: 1000,
      }),
    ).toThrow('connectionWindowSize must be an integer from 65535 to 2147483647, got 1000');
  });
});
