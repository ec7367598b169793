/**
 * Serving methods a grpc-js `Server` has no handler for. grpc-js has no public hook for this, so
 * the server's handler table (a `Map` from path to handler, read by `Server#_retrieveHandler`)
 * is given a `get` that falls back to the transparent handler. The internals are checked when
 * installing, and a clear error names the grpc-js version if they differ.
 */
import type { Server } from '@grpc/grpc-js';
import { deserializeRaw, serializeRaw } from '@grpc-proxy/codec';
import type { StreamDirector } from './contracts';
import { transparentHandler, type TransparentHandler } from './handler';
import type { ProxyHandlerOptions } from './options';

/** The grpc-js server internals the hook relies on (present from grpc-js 1.11 to at least 1.14). */
interface ServerInternals {
  handlers?: unknown;
  _retrieveHandler?: unknown;
}

type HandlerTable = Map<string, unknown>;

const INSTALLED = Symbol.for('@grpc-proxy/handler.serveUnknownServices');
const PROBE_PATH = '/grpc-proxy.internal.Probe/Probe';
const HANDLER_FIELDS = ['func', 'serialize', 'deserialize', 'type', 'path'];

function grpcJsVersion(): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('@grpc/grpc-js/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function unsupported(reason: string): Error {
  return new Error(
    `serveUnknownServices: the internals of @grpc/grpc-js ${grpcJsVersion()} are not as expected (${reason}); ` +
      'this version is not supported — use registerService for known services, or a supported grpc-js (^1.11).',
  );
}

/** Checks the internals the hook relies on and returns the handler table; throws when they differ. */
export function handlerTableOf(server: Server): HandlerTable {
  const internals = server as unknown as ServerInternals;
  const table = internals.handlers;
  if (!(table instanceof Map)) throw unsupported('Server#handlers is not a Map');
  const retrieve = internals._retrieveHandler;
  if (
    typeof retrieve !== 'function' ||
    !/this\.handlers\.get\(/.test(Function.prototype.toString.call(retrieve))
  ) {
    throw unsupported('Server#_retrieveHandler does not read this.handlers.get(path)');
  }
  if (!server.register(PROBE_PATH, () => undefined, serializeRaw, deserializeRaw, 'bidi')) {
    throw unsupported(`${PROBE_PATH} is already registered`);
  }
  try {
    const entry = Map.prototype.get.call(table, PROBE_PATH) as Record<string, unknown> | undefined;
    const missing = HANDLER_FIELDS.filter((field) => entry === undefined || !(field in entry));
    if (missing.length > 0) throw unsupported(`handler entries lack ${missing.join(', ')}`);
  } finally {
    server.unregister(PROBE_PATH);
  }
  return table as HandlerTable;
}

function fallbackEntry(handler: TransparentHandler, path: string) {
  return {
    func: handler,
    serialize: serializeRaw,
    deserialize: deserializeRaw,
    type: 'bidi',
    path,
  };
}

/**
 * Proxies every method `server` has no handler for — unknown services, and unregistered methods
 * of registered services — through `director`. Methods registered before or after keep their
 * own handlers. The Go `grpc.UnknownServiceHandler(proxy.TransparentHandler(director))`.
 *
 * @throws Error when already installed on `server`, or when the installed grpc-js's internals
 *   differ from what this hook expects (the message names the grpc-js version).
 */
export function serveUnknownServices(
  server: Server,
  director: StreamDirector,
  options?: ProxyHandlerOptions,
): void {
  const handler = transparentHandler(director, options);
  const table = handlerTableOf(server) as HandlerTable & { [INSTALLED]?: true };
  if (table[INSTALLED]) throw new Error('serveUnknownServices is already installed on this server');
  const ownGet = table.get;
  Object.defineProperty(table, 'get', {
    configurable: true,
    writable: true,
    value(this: HandlerTable, path: string): unknown {
      const registered = ownGet.call(this, path);
      if (registered !== undefined || typeof path !== 'string') return registered;
      return fallbackEntry(handler, path);
    },
  });
  table[INSTALLED] = true;
}
