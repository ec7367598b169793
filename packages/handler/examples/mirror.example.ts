import { ServerCredentials } from '@grpc/grpc-js';
import { createBackendClient, createProxyServer, type MirrorReport } from '@grpc-proxy/handler';

/**
 * A proxy on 127.0.0.1:0 that forwards every call to `primaryTarget` and copies a share of them
 * (`percent`) to `shadowTarget`, whose answers are read and dropped. `copies` lists how each copy
 * ended.
 */
export async function startMirroringProxy(
  primaryTarget: string,
  shadowTarget: string,
  percent = 100,
) {
  const primary = createBackendClient(primaryTarget);
  const shadow = createBackendClient(shadowTarget);
  const copies: MirrorReport[] = [];
  const server = createProxyServer({
    director: () => ({ backend: primary, mirror: { backend: shadow, percent } }),
    mirrorHeader: 'x-shadow', // the copies carry `x-shadow: 1`
    mirrorTimeoutMs: 5_000, // a copy may run on 5 s after its call ended
    observer: { onMirrorEnd: (report) => copies.push(report) },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, boundPort) =>
      error ? reject(error) : resolve(boundPort),
    ),
  );
  return {
    address: `127.0.0.1:${port}`,
    copies,
    close: () => {
      server.forceShutdown();
      primary.close();
      shadow.close();
    },
  };
}
