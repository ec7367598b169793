import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import type { Client, ServiceDefinition, handleUnaryCall } from '@grpc/grpc-js';
import { callRawUnary } from '@grpc-proxy/testing';
import type { CallOutcome } from '@grpc-proxy/testing';
import { HealthImplementation } from 'grpc-health-check';
import { stopServer } from './health-server';

const identity = (buffer: Buffer) => buffer;

function unaryMethod(path: string) {
  return {
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  };
}

/** Raw-bytes test service: `Who` answers the server's name, `Blob` answers N zero bytes (N: uint32 BE request). */
const rawService = {
  Who: unaryMethod('/test.Raw/Who'),
  Blob: unaryMethod('/test.Raw/Blob'),
} as unknown as ServiceDefinition;

/** A grpc-js server that says who it is, with a health service; 127.0.0.1, free port. */
export interface RawServer {
  readonly name: string;
  readonly address: string;
  readonly health: HealthImplementation;
  stop(): Promise<void>;
}

export async function startRawServer(name: string): Promise<RawServer> {
  const server = new Server({ 'grpc.max_send_message_length': 64 * 1024 * 1024 });
  const who: handleUnaryCall<Buffer, Buffer> = (_call, callback) =>
    callback(null, Buffer.from(name));
  const blob: handleUnaryCall<Buffer, Buffer> = (call, callback) =>
    callback(null, Buffer.alloc(call.request.readUInt32BE(0)));
  server.addService(rawService, { Who: who, Blob: blob });
  const health = new HealthImplementation({ '': 'SERVING' });
  health.addToServer(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    name,
    address: `127.0.0.1:${port}`,
    health,
    stop: () => stopServer(server),
  };
}

const withDeadline = () => ({ options: { deadline: Date.now() + 10_000 } });

/** Calls `Who` on a client; resolves to the answering server's name, rejects on an error status. */
export async function callWho(client: Client): Promise<string> {
  const outcome = await callRawUnary(client, '/test.Raw/Who', Buffer.alloc(0), withDeadline());
  if (outcome.status.code !== status.OK) {
    throw new Error(`Who ended with ${outcome.status.code}: ${outcome.status.details}`);
  }
  return String(outcome.responses[0]);
}

/** Asks for a `size`-byte response (errors are in the outcome's status). */
export function callBlob(client: Client, size: number): Promise<CallOutcome<Buffer>> {
  const request = Buffer.alloc(4);
  request.writeUInt32BE(size, 0);
  return callRawUnary(client, '/test.Raw/Blob', request, withDeadline());
}
