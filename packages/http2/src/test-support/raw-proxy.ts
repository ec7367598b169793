import type { ServerHttp2Stream } from 'node:http2';
import { Client, credentials } from '@grpc/grpc-js';
import { startHttp2Proxy, type RunningProxy } from './proxy';
import { startRawBackend, type RawBackend } from './raw-h2';

/** A raw backend, the http2 proxy in front of it, and a grpc-js client of the proxy. */
export interface RawProxyRun {
  readonly backend: RawBackend;
  readonly proxy: RunningProxy;
  readonly client: Client;
}

/**
 * Gives tests a `start(answer)` that runs a raw backend answering every stream with `answer`, an
 * http2 proxy sending every call to it (backend name `raw`) and a client of the proxy; what a test
 * started is closed after it.
 */
export function useRawProxy(): {
  start(answer: (stream: ServerHttp2Stream) => void): Promise<RawProxyRun>;
} {
  let run: RawProxyRun | undefined;
  afterEach(async () => {
    run?.client.close();
    await run?.proxy.close();
    await run?.backend.close();
    run = undefined;
  });
  return {
    start: async (answer) => {
      const backend = await startRawBackend(answer);
      const proxy = await startHttp2Proxy(() => ({
        backend: { name: 'raw', target: backend.target },
      })).catch(async (error: unknown) => {
        await backend.close();
        throw error;
      });
      run = { backend, proxy, client: new Client(proxy.address, credentials.createInsecure()) };
      return run;
    },
  };
}
