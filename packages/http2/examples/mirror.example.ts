import type { MirrorReport } from '@grpc-proxy/handler';
import { createHttp2Proxy } from '@grpc-proxy/http2';

/**
 * Mirror: every call goes to `primary`, and a copy of `percent` % of them to `shadow` (the same
 * headers plus `x-grpc-proxy-mirror: 1`, every client message; its replies dropped). `onCopy`
 * hears how each copy ended: `completed` (with the shadow's status), `dropped` or `failed`.
 */
export async function startMirrorExample(
  primary: string,
  shadow: string,
  percent: number,
  onCopy: (report: MirrorReport) => void,
) {
  const proxy = createHttp2Proxy({
    director: () => ({
      backend: { name: 'primary', target: primary },
      mirror: { backend: { name: 'shadow', target: shadow }, percent },
    }),
    mirrorTimeoutMs: 2_000, // a copy may outlive its call by 2 s, then it is dropped
    observer: { onMirrorEnd: onCopy },
  });
  const address = await proxy.listen('127.0.0.1:0');
  return { address, close: () => proxy.close(5_000) };
}
