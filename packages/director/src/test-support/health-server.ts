import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { HealthImplementation, service as healthService } from 'grpc-health-check';
import type { ServingStatus, ServingStatusMap } from 'grpc-health-check';

/** A plain grpc-js server with a grpc.health.v1 service, on 127.0.0.1 and a free port (or a unix socket). */
export interface HealthServer {
  readonly address: string;
  setStatus(service: string, status: ServingStatus): void;
  /** Stops at once, cancelling open Watch streams (as a killed process would). */
  stop(): Promise<void>;
}

/** How much of grpc.health.v1 the server implements. */
export type HealthFlavour = 'watch' | 'check-only' | 'none';

/** Starts a health server; `check-only` answers `Watch` with UNIMPLEMENTED, `none` has no health service. */
export async function startHealthServer(
  initial: ServingStatusMap = { '': 'SERVING' },
  flavour: HealthFlavour = 'watch',
  bindAddress = '127.0.0.1:0',
): Promise<HealthServer> {
  const server = new Server();
  const health = new HealthImplementation(initial);
  if (flavour === 'watch') health.addToServer(server);
  if (flavour === 'check-only') addCheckOnly(server, health);
  const boundPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync(bindAddress, ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    address: bindAddress.startsWith('unix:') ? bindAddress : `127.0.0.1:${boundPort}`,
    setStatus: (service, servingStatus) => health.setStatus(service, servingStatus),
    stop: () => stopServer(server),
  };
}

/** Serves only `Check` (the server answers `Watch` with UNIMPLEMENTED), from the same statuses. */
function addCheckOnly(server: Server, health: HealthImplementation): void {
  // HealthImplementation keeps its handlers private; take `check` from its own addToServer.
  const capture = {
    addService(_definition: unknown, implementation: UntypedServiceImplementation) {
      const check = implementation['check'];
      const checkOnly: ServiceDefinition = { Check: healthService['Check'] } as never;
      server.addService(checkOnly, { Check: check });
    },
  };
  health.addToServer(capture as never);
}

/**
 * Ends every call at once like a killed process, and resolves once the listener and the
 * connections are really closed (tryShutdown's callback; forceShutdown alone has none).
 */
export function stopServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  server.forceShutdown();
  return closed;
}
