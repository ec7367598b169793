import * as http2 from 'node:http2';
import { createServer } from 'node:net';
import { Client, credentials, status } from '@grpc/grpc-js';
import { callEcho, callRawUnary, echoRequest, startEchoServer } from '@grpc-proxy/testing';
import { echoClients as echoClientsOf } from './test-support/echo-clients';
import { startListening, stopCommands } from './test-support/command-run';
import { parsePrometheus, sumOf } from './test-support/prometheus';

const METHOD = '/passive.Health/Echo';

/**
 * A bare node:http2 gRPC backend that refuses its first stream with RST_STREAM(REFUSED_STREAM),
 * as a backend going away does, and echoes the request bytes on every later one.
 */
async function refusingFirstStream(): Promise<{
  address: string;
  streams(): number;
  close(): void;
}> {
  const server = http2.createServer();
  // Destroyed on close: the proxy's connection would keep the server open.
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  let streams = 0;
  server.on('stream', (stream) => {
    streams += 1;
    stream.on('error', () => undefined);
    if (streams === 1) {
      stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc' },
        { waitForTrailers: true },
      );
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${port}`,
    streams: () => streams,
    close: () => {
      server.close();
      for (const session of sessions) session.destroy();
    },
  };
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.each(['grpc-js', 'http2'])(
  'grpc-proxy command: passive health and retries (%s engine)',
  (engine) => {
    const clients: Client[] = [];
    const cleanups: (() => unknown)[] = [];
    const client = (address: string) => {
      const created = new Client(address, credentials.createInsecure());
      clients.push(created);
      return created;
    };
    const echoClients = echoClientsOf();
    afterEach(async () => {
      clients.splice(0).forEach((created) => created.close());
      echoClients.closeAll();
      await stopCommands();
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    const metricsOf = async (admin: string | undefined) =>
      parsePrometheus(await (await fetch(`http://${admin}/metrics`)).text());

    it('a stream the backend refused is sent again, and counted in grpc_proxy_transparent_retries_total', async () => {
      const backend = await refusingFirstStream();
      cleanups.push(() => backend.close());
      const { addresses, admin } = await startListening([
        '--listen',
        '127.0.0.1:0',
        '--backend',
        backend.address,
        '--admin',
        '127.0.0.1:0',
        '--engine',
        engine,
      ]);
      const outcome = await callRawUnary(client(addresses[0]), METHOD, Buffer.from('again'));
      expect([outcome.status.code, outcome.responses.map(String)]).toEqual([status.OK, ['again']]);
      expect(backend.streams()).toBe(2);
      const samples = await metricsOf(admin);
      expect(
        sumOf(samples, 'grpc_proxy_transparent_retries_total', {
          grpc_service: 'passive.Health',
          grpc_method: 'Echo',
        }),
      ).toBe(1);
      expect(sumOf(samples, 'grpc_proxy_calls_total', { grpc_code: 'OK' })).toBe(1);
    });

    it('a target whose connections fail: out of rotation (backend_up 0, one ejection, a warn line), back in once it listens', async () => {
      const live = await startEchoServer({ name: 'live' });
      cleanups.push(() => live.close());
      const port = await closedPort();
      const dead = `127.0.0.1:${port}`;
      const { run, addresses, admin } = await startListening([
        '--listen',
        '127.0.0.1:0',
        '--backend',
        live.address,
        '--backend',
        dead,
        '--admin',
        '127.0.0.1:0',
        '--engine',
        engine,
      ]);
      const proxy = echoClients.connect(addresses[0]);
      const ejected = run.waitForLog(
        (line) => line.msg.startsWith(`backend default/${dead} out of rotation: `),
        'the ejection',
      );
      // Calls let the proxy try the dead target (an engine may connect only when a call needs it);
      // each ends OK, on the live target or after a transparent retry.
      for (let call = 0; call < 50 && !run.logs.some((line) => line.available === false); call++) {
        const outcome = await callEcho(proxy, echoRequest());
        expect(outcome.status.code).toBe(status.OK);
      }
      const out = await ejected;
      expect(out).toMatchObject({ level: 40, backend: 'default', target: dead, available: false });
      expect(out.error).toMatch(/ECONNREFUSED/);
      let samples = await metricsOf(admin);
      const deadLabels = { backend: 'default', target: dead };
      expect(sumOf(samples, 'grpc_proxy_backend_up', deadLabels)).toBe(0);
      expect(
        sumOf(samples, 'grpc_proxy_backend_up', { backend: 'default', target: live.address }),
      ).toBe(1);
      expect(sumOf(samples, 'grpc_proxy_backend_ejections_total', deadLabels)).toBe(1);

      const back = await startEchoServer({ name: 'back', port });
      cleanups.push(() => back.close());
      // The probes (capped backoff, at most 500 ms apart) find it without any call.
      const returned = await run.waitForLog(
        (line) => line.msg === `backend default/${dead} back in rotation`,
        'the return',
      );
      expect(returned).toMatchObject({
        level: 30,
        backend: 'default',
        target: dead,
        available: true,
      });
      samples = await metricsOf(admin);
      expect(sumOf(samples, 'grpc_proxy_backend_up', deadLabels)).toBe(1);
      expect(sumOf(samples, 'grpc_proxy_backend_ejections_total', deadLabels)).toBe(1);
    });
  },
);
