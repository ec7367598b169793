import { Server, status, type Client } from '@grpc/grpc-js';
import { createBackendClient } from './backend-client';
import { registerService } from './handler';
import {
  bidiCall,
  eventually,
  rawClient,
  unaryCall,
  type RunningServer,
} from './test-support/grpc-fixtures';
import { bindLocal, startProxy } from './test-support/proxy-fixture';
import { ECHO, startTestBackend, type TestBackend } from './test-support/test-backend';

describe('message size limits on both legs', () => {
  let backend: TestBackend;
  let backendClient: Client;
  let proxy: RunningServer | undefined;
  let client: Client | undefined;

  beforeEach(async () => {
    backend = await startTestBackend({ 'grpc.max_receive_message_length': -1 });
    backendClient = createBackendClient(backend.target);
  });

  afterEach(async () => {
    client?.close();
    backendClient.close();
    await proxy?.close();
    await backend.close();
    client = undefined;
    proxy = undefined;
  });

  it('passes messages over grpc-js 4 MiB default both ways with the 64 MiB default', async () => {
    proxy = await startProxy(() => ({ backend: backendClient }));
    client = rawClient(proxy.target, { 'grpc.max_receive_message_length': -1 });
    const big = Buffer.alloc(5 * 1024 * 1024, 0xab);
    big.writeUInt32BE(0xdeadbeef, 1000);
    const outcome = await bidiCall(client, `${ECHO}/Bidi`, [big]);
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses).toHaveLength(1);
    expect(outcome.responses[0].equals(big)).toBe(true);
  });

  it('rejects a client message over maxReceiveMessageLength with RESOURCE_EXHAUSTED naming the limit', async () => {
    proxy = await startProxy(() => ({ backend: backendClient }), { maxReceiveMessageLength: 1000 });
    client = rawClient(proxy.target);
    const ok = await unaryCall(client, `${ECHO}/Unary`, Buffer.alloc(990));
    expect(ok.status.code).toBe(status.OK);
    const outcome = await unaryCall(client, `${ECHO}/Unary`, Buffer.alloc(1001));
    expect(outcome.status.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(outcome.status.details).toContain('1000');
  });

  it('rejects a backend message over maxSendMessageLength with RESOURCE_EXHAUSTED naming the limit', async () => {
    proxy = await startProxy(() => ({ backend: backendClient }), { maxSendMessageLength: 1000 });
    client = rawClient(proxy.target);
    const outcome = await unaryCall(client, `${ECHO}/Unary`, Buffer.alloc(996)); // answer: 'echo:' + 996 bytes
    expect(outcome.status.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(outcome.status.details).toBe(
      `grpc-proxy: message from backend dns:${backend.target} is 1001 bytes, more than maxSendMessageLength (1000)`,
    );
    await eventually(() => backend.seen.length === 1, 'backend call');
  });

  it('applies the handler limit on a server whose own limit is larger (registerService)', async () => {
    const server = new Server({ 'grpc.max_receive_message_length': -1 });
    registerService(server, () => ({ backend: backendClient }), 'test.Echo', ['Unary'], {
      maxReceiveMessageLength: 1000,
    });
    proxy = await bindLocal(server);
    client = rawClient(proxy.target);
    const outcome = await unaryCall(client, `${ECHO}/Unary`, Buffer.alloc(1001));
    expect(outcome.status.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(outcome.status.details).toBe(
      'grpc-proxy: message from client is 1001 bytes, more than maxReceiveMessageLength (1000)',
    );
  });

  it('refuses invalid limits with a RangeError naming the option', () => {
    expect(() =>
      startProxy(() => ({ backend: backendClient }), { maxSendMessageLength: -5 }),
    ).toThrow(
      new RangeError(
        'maxSendMessageLength must be a non-negative integer (or -1 for no limit), got -5',
      ),
    );
  });
});
