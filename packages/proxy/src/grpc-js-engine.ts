import { createServer, type Server as NetServer, type Socket } from 'node:net';
import type { ConnectionInjector, Server, ServerCredentials } from '@grpc/grpc-js';
import { createProxyServer } from '@grpc-proxy/handler';
import { splitHostPort } from './address';
import { createCallTracker, type CallTracker } from './call-tracker';
import type { ResolvedProxyConfig } from './config/types';
import type { EngineParts, EngineServer } from './engine-server';
import { limitOptions } from './limits';
import { serverCredentials, updateServerCredentials } from './tls';

/** The status message of calls still running when the drain timeout ends them. */
export const SHUTDOWN_MESSAGE = 'grpc-proxy: shutting down';

/**
 * One grpc-js server of the engine, made from one config's limits, metadata policy and TLS mode.
 * A reload that changes those makes the next one; the replaced one drains (GOAWAY, running calls
 * finish) while new connections go to the new one.
 */
interface Generation {
  readonly server: Server;
  readonly tracker: CallTracker;
  readonly credentials: ServerCredentials;
  /** Its connection injectors (one per listener it took connections from). */
  readonly injectors: ConnectionInjector[];
  /** The connections it was given and that are still open. */
  readonly sockets: Set<Socket>;
  /** Resolves once every connection it had is closed; set when it is shut down. */
  closed?: Promise<void>;
}

/** A listening socket of the command, and where its connections go now. */
interface Listener {
  readonly socket: NetServer;
  /** The generation new connections go to, and its injector for this listener. */
  generation: Generation;
  injector: ConnectionInjector;
}

/** The config's `metadata` as the engines' metadata policy. */
export function metadataPolicy(config: ResolvedProxyConfig) {
  return { stripKeys: config.metadata.strip, forwardedFor: config.metadata.forwardedFor };
}

/** The mirror options of both engines: the header marking copies, and how long they may outlive their call. */
export function mirrorOptions(config: ResolvedProxyConfig) {
  return {
    mirrorHeader: config.metadata.mirrorHeader,
    mirrorTimeoutMs: config.limits.mirrorTimeoutMs,
  };
}

function newGeneration({ config, director, observer }: EngineParts): Generation {
  const limits = limitOptions(config.limits);
  const tracker = createCallTracker();
  const server = createProxyServer({
    director,
    ...limits.messages,
    ...limits.clientLimits,
    metadata: metadataPolicy(config),
    ...mirrorOptions(config),
    observer,
    // The tracker first, so that it sees every call (and can end it at the drain timeout).
    serverOptions: { ...limits.serverOptions, interceptors: [tracker.interceptor] },
  });
  const credentials = serverCredentials(config.tls);
  return { server, tracker, credentials, injectors: [], sockets: new Set() };
}

function injectorOf(generation: Generation): ConnectionInjector {
  const injector = generation.server.createConnectionInjector(generation.credentials);
  generation.injectors.push(injector);
  return injector;
}

/**
 * Sends GOAWAY on every connection of `generation` (running calls go on) and resolves once all
 * are closed; connections still open after `graceMs` are cut. (grpc-js's `tryShutdown` does not
 * wait for the sessions of injected connections, so the engine counts the sockets itself.)
 */
function shutDown(generation: Generation, graceMs: number): Promise<void> {
  if (generation.closed) return generation.closed;
  for (const injector of generation.injectors) injector.drain(graceMs);
  const { sockets } = generation;
  generation.closed = new Promise<void>((resolve) => {
    const check = () => {
      if (sockets.size > 0) return;
      generation.server.forceShutdown(); // nothing left to cut: frees grpc-js's own state
      resolve();
    };
    for (const socket of sockets) socket.once('close', check);
    check();
  });
  return generation.closed;
}

/** Binds `address` (`host:port`, `[v6]:port`, `unix:/path`); resolves with it, real port filled in. */
function bindSocket(socket: NetServer, address: string): Promise<string> {
  const unix = /^unix:(?:\/\/)?(.+)$/.exec(address);
  const where = unix ? { path: unix[1] } : splitHostPort(address);
  return new Promise((resolve, reject) => {
    const failed = (error: Error) =>
      reject(new Error(`cannot listen on ${address}: ${error.message}`, { cause: error }));
    socket.once('error', failed);
    socket.listen(where, () => {
      // Once listening, an error is a failed accept (EMFILE...): the socket listens on.
      socket.off('error', failed).on('error', () => undefined);
      const bound = socket.address();
      const port = typeof bound === 'object' && bound !== null ? bound.port : 0;
      resolve(unix ? address : address.replace(/:\d+$/, `:${port}`));
    });
  });
}

/**
 * The grpc-js engine. The command holds the listening sockets and hands each connection to the
 * current grpc-js server through a connection injector (grpc-js's own API for sockets it did not
 * accept), so that a reload can give new connections a server with new limits, metadata policy
 * or TLS mode while the old one drains, without a moment of refused connections. Under
 * node:cluster the sockets are shared like any `net.Server`.
 */
export function grpcJsServer(parts: EngineParts): EngineServer {
  let current = newGeneration(parts);
  const generations = new Set<Generation>([current]);
  const listeners = new Map<string, Listener>();
  const retire = (generation: Generation, graceMs: number) =>
    void shutDown(generation, graceMs).then(() => generations.delete(generation));
  const accept = (listener: Listener, connection: Socket) => {
    const { sockets } = listener.generation;
    sockets.add(connection);
    connection.once('close', () => sockets.delete(connection));
    listener.injector.injectConnection(connection);
  };
  return {
    async listen(address) {
      const listener: Listener = {
        socket: createServer((connection) => accept(listener, connection)),
        generation: current,
        injector: injectorOf(current),
      };
      const bound = await bindSocket(listener.socket, address).catch((error: unknown) => {
        listener.injector.destroy();
        throw error;
      });
      listeners.set(bound, listener);
      return bound;
    },
    unlisten(bound, drainTimeoutMs) {
      const listener = listeners.get(bound);
      listeners.delete(bound);
      listener?.socket.close();
      // GOAWAY to this listener's clients; sessions still open after the grace are cut.
      listener?.injector.drain(drainTimeoutMs);
      return Promise.resolve();
    },
    updateTls(tls) {
      updateServerCredentials(current.credentials, tls);
      return true;
    },
    reconfigure(config) {
      const previous = current;
      current = newGeneration({ ...parts, config });
      generations.add(current);
      for (const listener of listeners.values()) {
        listener.generation = current;
        listener.injector = injectorOf(current);
      }
      // Its clients get GOAWAY and reconnect to the new server; calls longer than the drain
      // timeout are cut, as at a shutdown.
      retire(previous, config.shutdown.drainTimeoutMs);
      return true;
    },
    get activeCalls() {
      let calls = 0;
      for (const generation of generations) calls += generation.tracker.activeCalls;
      return calls;
    },
    async drain(deadline, timeoutMs) {
      for (const listener of listeners.values()) listener.socket.close();
      const all = [...generations];
      // Connections still open 2 s after the timeout are cut: the statuses sent at the timeout
      // need the connections a moment longer, only a peer that never reads holds them past that.
      const closed = all.map((generation) => shutDown(generation, timeoutMs + 2000));
      const drained = Promise.all(closed).then(() => 'drained' as const);
      if ((await Promise.race([drained, deadline])) === 'drained') return 0;
      let ended = 0;
      for (const generation of all) ended += generation.tracker.endAll(SHUTDOWN_MESSAGE);
      await drained;
      return ended;
    },
    abort() {
      for (const listener of listeners.values()) listener.socket.close();
      for (const generation of generations) {
        generation.injectors.forEach((injector) => injector.destroy());
        generation.server.forceShutdown();
      }
    },
  };
}
