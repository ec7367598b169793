import { ServerCredentials } from '@grpc/grpc-js';
import { createProxyServer } from '@grpc-proxy/handler';
import {
  byMetadata,
  byService,
  createBackend,
  healthChecked,
  roundRobin,
} from '@grpc-proxy/director';

/** A running proxy of this example. */
export interface ComposedProxy {
  /** Where clients connect: `127.0.0.1:<port>`. */
  readonly address: string;
  /** The health-checked pair behind tenant `blue`, to watch its `change` events. */
  readonly blue: ReturnType<typeof healthChecked>;
  /** Stops the server, then closes every backend, health watch and timer. */
  close(): Promise<void>;
}

/**
 * A proxy in front of three backends:
 * - tenant `blue` (metadata `x-tenant: blue`) rotates over `a` and `b`, while they are SERVING;
 * - tenant `green` goes to `c`;
 * - any other call goes by service: billing to `c`, everything else rotates over all three.
 * The `x-tenant` key is stripped before forwarding.
 */
export async function startComposedProxy(targets: {
  a: string;
  b: string;
  c: string;
}): Promise<ComposedProxy> {
  const a = createBackend(targets.a, { name: 'a' });
  const b = createBackend(targets.b, { name: 'b' });
  const c = createBackend(targets.c, { name: 'c' });
  const blue = healthChecked([a, b], { service: '' });
  const director = byMetadata(
    'x-tenant',
    { blue: roundRobin(blue), green: c },
    { fallback: byService({ 'acme.billing.v1.Billing': c, '*': roundRobin([a, b, c]) }) },
  );

  const server = createProxyServer({ director });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  await blue.ready(); // first health answers in, before taking traffic

  return {
    address: `127.0.0.1:${port}`,
    blue,
    close: async () => {
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      director.close(); // owns a, b, c and the health watches: closes them all
    },
  };
}
