import type { handleBidiStreamingCall, Server } from '@grpc/grpc-js';
import { deserializeRaw, serializeRaw } from '@grpc-proxy/codec';
import { ClientGuards } from './client-guard';
import type { StreamDirector } from './contracts';
import { resolveHandlerOptions, type ProxyHandlerOptions } from './options';
import { ProxiedCall } from './proxied-call';

/** A grpc-js bidi handler of raw payloads, as `transparentHandler` returns it. */
export type TransparentHandler = handleBidiStreamingCall<Buffer, Buffer>;

/**
 * A grpc-js bidi-streaming handler that proxies any call — unary, client-, server- or
 * bidi-streaming — as raw bytes to the backend `director` picks. Register it with raw
 * (identity) serializers, as {@link registerService} does. The TypeScript form of Go's
 * `proxy.TransparentHandler`.
 *
 * @param director picks the backend of each call.
 * @param options size limits (default 64 MiB), metadata policy, observer, director timeout,
 *   limits per client connection (resets, unsent bytes, stall timeout).
 * @throws TypeError when `director` is not a function; RangeError naming a bad option.
 */
export function transparentHandler(
  director: StreamDirector,
  options?: ProxyHandlerOptions,
): TransparentHandler {
  if (typeof director !== 'function')
    throw new TypeError('director must be a function (call) => Route');
  const resolved = resolveHandlerOptions(options);
  // Each call starts a turn after it arrives, within its client connection's limits.
  const guards = new ClientGuards(resolved, (stream, guarded, refusal) =>
    new ProxiedCall(stream, director, resolved, guarded).start(refusal),
  );
  return (stream) => guards.arrive(stream);
}

/**
 * Registers `methodNames` of `serviceName` on `server` (through grpc-js's public `register`) so
 * that they are proxied through `director`. The Go `proxy.RegisterService`.
 *
 * @throws Error naming the method when one is already registered on `server`.
 */
export function registerService(
  server: Server,
  director: StreamDirector,
  serviceName: string,
  methodNames: readonly string[],
  options?: ProxyHandlerOptions,
): void {
  if (typeof serviceName !== 'string' || serviceName === '' || serviceName.includes('/')) {
    throw new TypeError(
      `serviceName must be a non-empty 'pkg.Service' name, got ${JSON.stringify(serviceName)}`,
    );
  }
  const handler = transparentHandler(director, options);
  for (const methodName of methodNames) {
    if (typeof methodName !== 'string' || methodName === '' || methodName.includes('/')) {
      throw new TypeError(
        `method names must be non-empty and without '/', got ${JSON.stringify(methodName)}`,
      );
    }
    const path = `/${serviceName}/${methodName}`;
    if (!server.register(path, handler, serializeRaw, deserializeRaw, 'bidi')) {
      throw new Error(`registerService: ${path} is already registered on this server`);
    }
  }
}
