import {
  Server,
  ServerInterceptingCall,
  type Client,
  type ServerDuplexStream,
  type ServerInterceptor,
} from '@grpc/grpc-js';
import type { ServerHttp2Stream } from 'node:http2';
import { callRawBidi, useProcessWarnings } from '@grpc-proxy/testing';
import { ClientGuards } from './client-guard';
import { http2StreamOf } from './http2-stream-of';
import { resolveHandlerOptions } from './options';
import {
  bindLocal,
  eventually,
  raw,
  rawClient,
  type RunningServer,
} from './test-support/grpc-fixtures';

const PATH = '/guard.Test/Call';

describe('the client guard', () => {
  const warnings = useProcessWarnings();
  let servers: RunningServer[];
  let clients: Client[];
  beforeEach(() => {
    servers = [];
    clients = [];
  });
  afterEach(async () => {
    for (const client of clients) client.close();
    for (const server of servers) await server.close();
  });

  /** A grpc-js server on 127.0.0.1:0 whose one method runs `handle`, and a client of it. */
  async function serve(
    handle: (call: ServerDuplexStream<Buffer, Buffer>) => void,
    options = {},
  ): Promise<Client> {
    const server = new Server(options);
    server.register(PATH, handle, raw, raw, 'bidi');
    const running = await bindLocal(server);
    servers.push(running);
    const client = rawClient(running.target);
    clients.push(client);
    return client;
  }

  /*
   * Canary: the guard resets streams and closes connections through grpc-js's private chain from
   * a handler's call to its http2 stream (./http2-stream-of.ts). If grpc-js changes it, this
   * fails here, not silently in production (where a warning would say so).
   */
  const passThrough: ServerInterceptor = (_method, call) => new ServerInterceptingCall(call);
  it.each([
    ['a plain server', {}],
    ['a server with interceptors', { interceptors: [passThrough, passThrough] }],
  ])('finds the http2 stream under a call on %s', async (_name, options) => {
    let found: { stream: ServerHttp2Stream | undefined; socket: string; peer: string } | undefined;
    const client = await serve((call) => {
      const stream = http2StreamOf(call);
      const socket = stream?.session?.socket;
      found = {
        stream,
        socket: `${socket?.remoteAddress}:${socket?.remotePort}`,
        peer: call.getPeer(),
      };
      call.end();
    }, options);
    await callRawBidi(client, PATH, []);
    expect(found?.socket).toBe(found?.peer);
    expect(typeof found?.stream?.close).toBe('function');
    expect(warnings).toEqual([]);
  });

  it('warns once when a call has no http2 stream where expected', () => {
    expect(http2StreamOf({ call: { nextCall: {} } })).toBeUndefined();
    expect(http2StreamOf({})).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^grpc-proxy: the grpc-js server call has no http2 stream where expected; .*: Error: grpc-js internals differ/,
    );
  });

  it('forgets client connections once they are quiet: the table stays bounded', async () => {
    const guards = new ClientGuards(resolveHandlerOptions({}), (stream) => stream.end());
    const address = (await serve((call) => guards.arrive(call)), servers[0].target);
    // 40 connections, one call each: 40 entries, then none a second after the last call.
    for (let i = 0; i < 40; i++) {
      const client = rawClient(address, { 'grpc.use_local_subchannel_pool': 1 });
      clients.push(client);
      await callRawBidi(client, PATH, []);
      client.close();
    }
    expect(guards.size).toBeGreaterThan(1);
    expect(guards.size).toBeLessThanOrEqual(40);
    await eventually(() => guards.size === 0, 'every quiet connection forgotten');
  });
});
