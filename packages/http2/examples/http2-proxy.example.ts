import { status } from '@grpc/grpc-js';
import { byService, createBackend, roundRobin } from '@grpc-proxy/director';
import { ProxyStatusError } from '@grpc-proxy/handler';
import { createHttp2Proxy } from '@grpc-proxy/http2';

/**
 * A proxy on node:http2 in front of two backends: billing calls go to `a`, every other service
 * rotates over `a` and `b`, and `admin.Internal` is refused. Messages are never decoded.
 */
export async function startHttp2Example(targets: { a: string; b: string }) {
  const a = createBackend(targets.a, { name: 'a' });
  const b = createBackend(targets.b, { name: 'b' });
  const routes = byService({ 'acme.billing.v1.Billing': a, '*': roundRobin([a, b]) });
  const proxy = createHttp2Proxy({
    director: (call) => {
      if (call.service === 'admin.Internal') {
        throw new ProxyStatusError(status.PERMISSION_DENIED, 'admin.Internal is not exposed');
      }
      return routes(call);
    },
    metadata: { forwardedFor: true }, // x-forwarded-for: the client's address
  });
  const address = await proxy.listen('127.0.0.1:0'); // or '[::1]:50051', 'unix:/run/proxy.sock'
  return {
    address,
    close: async () => {
      await proxy.close(5_000); // GOAWAY, running calls get 5 s, then UNAVAILABLE
      routes.close(); // closes a and b
    },
  };
}
