import type { StreamDirector } from '@grpc-proxy/handler';
import { createHttp2Proxy, type Http2Proxy } from '../server';
import type { Http2ProxyOptions } from '../options';

/** A proxy listening on 127.0.0.1:0, and how to stop it at once. */
export interface RunningProxy {
  readonly proxy: Http2Proxy;
  readonly address: string;
  close(): Promise<void>;
}

/** Starts the http2 engine on 127.0.0.1:0 with `director`; `close` ends running calls at once. */
export async function startHttp2Proxy(
  director: StreamDirector,
  options: Omit<Http2ProxyOptions, 'director'> = {},
): Promise<RunningProxy> {
  const proxy = createHttp2Proxy({ director, ...options });
  const address = await proxy.listen('127.0.0.1:0');
  return { proxy, address, close: () => proxy.close(0) };
}
