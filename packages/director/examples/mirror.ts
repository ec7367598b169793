import type { StreamDirector } from '@grpc-proxy/handler';
import { byService, createBackend, withMirror } from '@grpc-proxy/director';

/**
 * Billing calls go to `billing` as before; a copy of 10 % of them also goes to `billingNext`,
 * the new version under test, whose replies the proxy discards. Give the director to either
 * engine (`createProxyServer({ director })` or `createHttp2Proxy({ director })`).
 */
export function mirroredBilling(targets: { billing: string; billingNext: string }): {
  director: StreamDirector;
  close(): void;
} {
  const billing = createBackend(targets.billing, { name: 'billing' });
  const billingNext = createBackend(targets.billingNext, { name: 'billing-next' });
  const director = withMirror(byService({ 'acme.billing.v1.Billing': billing }), {
    backend: billingNext,
    percent: 10,
  });
  return {
    director,
    close: () => {
      billing.close();
      billingNext.close(); // withMirror does not own its mirrors: close them yourself
    },
  };
}
