import { startEchoServer } from '@grpc-proxy/testing';
import type { EchoServerHandle } from '@grpc-proxy/testing';
import type { OwnedBackend } from '../index';
import { createBackend } from '../index';

/** Echo servers from the test kit, one per name, each with a backend of the same name. */
export async function startEchoBackends(
  names: readonly string[],
): Promise<{ servers: EchoServerHandle[]; backends: OwnedBackend[] }> {
  const servers = await Promise.all(names.map((name) => startEchoServer({ name })));
  const backends = servers.map((server) => createBackend(server.address, { name: server.name }));
  return { servers, backends };
}

/** Ends every call and connection at once, as a killed process would, and resolves once the listener is closed. */
export async function killEchoServer(server: EchoServerHandle): Promise<void> {
  const closed = server.close();
  server.forceClose();
  await closed;
}
