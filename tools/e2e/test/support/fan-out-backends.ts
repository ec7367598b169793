/**
 * Backends and helpers of the fan-out specs: echo servers with names (so a client can tell which
 * backend sent a message), a backend that refuses every call with one exact status, and the
 * proxy's `/metrics` read through its admin listener. They run in the test process: their
 * memory is not the proxy's.
 */
import {
  Metadata,
  Server,
  ServerCredentials,
  type ServerErrorResponse,
  type StatusObject,
} from '@grpc/grpc-js';
import { EchoServiceService, type EchoServiceServer } from '@grpc-proxy/testing';
import type { ProxyProcess } from '../../src';
import { metricValue } from './mirror-stuck';

/** A backend that ends every call with `code`, `details` and the trailer `x-refused-by: name`. */
export interface RefusingBackend {
  readonly address: string;
  close(): Promise<void>;
}

/** Starts a {@link RefusingBackend} on 127.0.0.1:0. */
export async function startRefusingBackend(
  name: string,
  code: number,
  details: string,
): Promise<RefusingBackend> {
  const refusal = (): Partial<StatusObject> & ServerErrorResponse => {
    const metadata = new Metadata();
    metadata.set('x-refused-by', name);
    return Object.assign(new Error(details), { code, details, metadata });
  };
  const handlers: EchoServiceServer = {
    echo: (_call, callback) => callback(refusal()),
    clientStream: (_call, callback) => callback(refusal()),
    // grpc-js sends a streaming call's error status on 'error' (destroy() would leave it open).
    serverStream: (call) => call.emit('error', refusal()),
    bidi: (call) => call.emit('error', refusal()),
  };
  const server = new Server();
  server.addService(EchoServiceService, handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    address: `127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

/** The admin address the proxy printed in its listening line. */
export function adminOf(proxy: ProxyProcess): string {
  const line = proxy.process.lines.find((text) => text.includes('"admin"'));
  return (JSON.parse(line!) as { admin: string }).admin;
}

/** The sum of the samples of `name` with every label of `where`, from the proxy's `/metrics`. */
export async function scrape(
  admin: string,
  name: string,
  where: Record<string, string>,
): Promise<number> {
  const text = await (await fetch(`http://${admin}/metrics`)).text();
  return metricValue(text, name, where);
}

/**
 * {@link scrape}, polled until the sum reaches `expected` (bounded: 5 s at most). The proxy counts
 * a call when it ends there, which may be after the client saw its status.
 */
export async function scrapeAtLeast(
  admin: string,
  name: string,
  where: Record<string, string>,
  expected: number,
): Promise<number> {
  let counted = await scrape(admin, name, where);
  for (let polls = 0; polls < 200 && counted < expected; polls++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    counted = await scrape(admin, name, where);
  }
  return counted;
}
