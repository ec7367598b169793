import type { StreamDirector } from '../contracts';
import type { ProxyHandlerOptions } from '../options';
import { createProxyServer } from '../server';
import { bindLocal, type RunningServer } from './grpc-fixtures';

/** Starts `createProxyServer` on 127.0.0.1:0. */
export function startProxy(
  director: StreamDirector,
  options: ProxyHandlerOptions = {},
): Promise<RunningServer> {
  return bindLocal(createProxyServer({ director, ...options }));
}
