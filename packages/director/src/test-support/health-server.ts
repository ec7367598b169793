import { EventEmitter } from 'node:events';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type {
  ServerOptions,
  ServerWritableStream,
  ServiceDefinition,
  UntypedHandleCall,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { HealthImplementation, service as healthService } from 'grpc-health-check';
import type { ServingStatus, ServingStatusMap } from 'grpc-health-check';

/** A plain grpc-js server with a grpc.health.v1 service, on 127.0.0.1 and a free port (or a unix socket). */
export interface HealthServer {
  readonly address: string;
  setStatus(service: string, status: ServingStatus): void;
  /** Emits `watch` / `check` as each call arrives, `watchCancelled` when a client cancels a Watch. */
  readonly events: EventEmitter<HealthServerEvents>;
  /** Stops at once, cancelling open Watch streams (as a killed process would). */
  stop(): Promise<void>;
}

/** Events of {@link HealthServer.events}. */
export interface HealthServerEvents {
  watch: [];
  check: [];
  watchCancelled: [];
}

/** How much of grpc.health.v1 the server implements. */
export type HealthFlavour = 'watch' | 'check-only' | 'check-hangs' | 'none';

/**
 * Starts a health server; `check-only` answers `Watch` with UNIMPLEMENTED, `check-hangs` too
 * and never answers `Check`, `none` has no health service.
 */
export async function startHealthServer(
  initial: ServingStatusMap = { '': 'SERVING' },
  flavour: HealthFlavour = 'watch',
  bindAddress = '127.0.0.1:0',
  serverOptions: ServerOptions = {},
): Promise<HealthServer> {
  const server = new Server(serverOptions);
  const health = new HealthImplementation(initial);
  const events = new EventEmitter<HealthServerEvents>();
  if (flavour !== 'none') addHealth(server, health, flavour, events);
  const boundPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync(bindAddress, ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    address: bindAddress.startsWith('unix:') ? bindAddress : `127.0.0.1:${boundPort}`,
    setStatus: (service, servingStatus) => health.setStatus(service, servingStatus),
    events,
    stop: () => stopServer(server),
  };
}

/**
 * Adds the health service with its calls reported through `events`, `Watch` left out for
 * `check-only` (so that the server answers it with UNIMPLEMENTED). HealthImplementation keeps
 * its handlers private: take them from its own addToServer.
 */
function addHealth(
  server: Server,
  health: HealthImplementation,
  flavour: Exclude<HealthFlavour, 'none'>,
  events: EventEmitter<HealthServerEvents>,
): void {
  const checkOnly = { Check: healthService['Check'] } as unknown as ServiceDefinition;
  if (flavour === 'check-hangs') {
    server.addService(checkOnly, { Check: () => events.emit('check') });
    return;
  }
  const capture = {
    addService(_definition: unknown, implementation: UntypedServiceImplementation) {
      const check = implementation['check'] as (...args: unknown[]) => void;
      const countedCheck = ((...args: unknown[]) => {
        events.emit('check');
        check(...args);
      }) as UntypedHandleCall;
      if (flavour === 'check-only') {
        server.addService(checkOnly, { Check: countedCheck });
        return;
      }
      const watch = implementation['watch'] as (
        call: ServerWritableStream<unknown, unknown>,
      ) => void;
      const countedWatch = ((call: ServerWritableStream<unknown, unknown>) => {
        events.emit('watch');
        call.on('cancelled', () => events.emit('watchCancelled'));
        watch(call);
      }) as UntypedHandleCall;
      server.addService(healthService as unknown as ServiceDefinition, {
        Check: countedCheck,
        Watch: countedWatch,
      });
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
