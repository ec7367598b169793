import { Server, status } from '@grpc/grpc-js';
import { callRawBidi, callRawUnary } from '@grpc-proxy/testing';
import { registerService } from './handler';
import type { ProxyHandlerOptions } from './options';
import { createProxyServer } from './server';
import { eventually } from './test-support/grpc-fixtures';
import { useBackend } from './test-support/harness';
import { ECHO, startTestBackend } from './test-support/test-backend';

describe('message size limits on both legs', () => {
  const h = useBackend(() => startTestBackend({ 'grpc.max_receive_message_length': -1 }));
  const toBackend = () => ({ backend: h.backendClient });

  /** A proxy to the backend with `options`, and a client of it. */
  async function connect(options: ProxyHandlerOptions = {}, clientOptions = {}) {
    const { client } = await h.serve(
      createProxyServer({ director: toBackend, ...options }),
      clientOptions,
    );
    return client;
  }

  it('passes messages over grpc-js 4 MiB default both ways with the 64 MiB default', async () => {
    const client = await connect({}, { 'grpc.max_receive_message_length': -1 });
    const big = Buffer.alloc(5 * 1024 * 1024, 0xab);
    big.writeUInt32BE(0xdeadbeef, 1000);
    const outcome = await callRawBidi(client, `${ECHO}/Bidi`, [big]);
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses).toHaveLength(1);
    expect(outcome.responses[0].equals(big)).toBe(true);
  });

  it('rejects a client message over maxReceiveMessageLength with RESOURCE_EXHAUSTED naming the limit', async () => {
    const client = await connect({ maxReceiveMessageLength: 1000 });
    const ok = await callRawUnary(client, `${ECHO}/Unary`, Buffer.alloc(990));
    expect(ok.status.code).toBe(status.OK);
    const outcome = await callRawUnary(client, `${ECHO}/Unary`, Buffer.alloc(1001));
    expect(outcome.status.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(outcome.status.details).toContain('1000');
  });

  it('rejects a backend message over maxSendMessageLength with RESOURCE_EXHAUSTED naming the limit', async () => {
    const client = await connect({ maxSendMessageLength: 1000 });
    const outcome = await callRawUnary(client, `${ECHO}/Unary`, Buffer.alloc(996)); // answer: 'echo:' + 996 bytes
    expect(outcome.status.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(outcome.status.details).toBe(
      `grpc-proxy: message from backend dns:${h.backend.target} is 1001 bytes, more than maxSendMessageLength (1000)`,
    );
    await eventually(() => h.backend.seen.length === 1, 'backend call');
  });

  it('applies the handler limit on a server whose own limit is larger (registerService)', async () => {
    const server = new Server({ 'grpc.max_receive_message_length': -1 });
    registerService(server, toBackend, 'test.Echo', ['Unary'], { maxReceiveMessageLength: 1000 });
    const { client } = await h.serve(server);
    const outcome = await callRawUnary(client, `${ECHO}/Unary`, Buffer.alloc(1001));
    expect(outcome.status.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(outcome.status.details).toBe(
      'grpc-proxy: message from client is 1001 bytes, more than maxReceiveMessageLength (1000)',
    );
  });

  it('refuses invalid limits with a RangeError naming the option', () => {
    expect(() => createProxyServer({ director: toBackend, maxSendMessageLength: -5 })).toThrow(
      new RangeError(
        'maxSendMessageLength must be a non-negative integer (or -1 for no limit), got -5',
      ),
    );
  });
});
