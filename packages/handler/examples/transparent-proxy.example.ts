import { ServerCredentials, status } from '@grpc/grpc-js';
import { ProxyStatusError, createBackendClient, createProxyServer } from '@grpc-proxy/handler';

/** A transparent gRPC proxy on 127.0.0.1:0 that forwards every call, of any service, to `backendTarget`. */
export async function startTransparentProxy(backendTarget: string) {
  const backend = createBackendClient(backendTarget); // retries off, 64 MiB limits, channelz off
  const server = createProxyServer({
    director: (call) => {
      if (call.service === 'admin.Internal') {
        throw new ProxyStatusError(status.PERMISSION_DENIED, 'admin.Internal is not exposed');
      }
      return { backend }; // payloads travel as raw bytes: no .proto needed
    },
    metadata: { stripKeys: ['x-route-to'], forwardedFor: true },
    observer: {
      onCallEnd: (report) => console.debug(report.method, report.code, report.durationMs),
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, boundPort) =>
      error ? reject(error) : resolve(boundPort),
    ),
  );
  return {
    address: `127.0.0.1:${port}`,
    close: () => {
      server.forceShutdown();
      backend.close();
    },
  };
}
