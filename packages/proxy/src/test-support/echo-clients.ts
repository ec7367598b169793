import {
  createEchoClient,
  type EchoClientOptions,
  type EchoServiceClient,
} from '@grpc-proxy/testing';

/** The echo clients a spec opens, closed together in `afterEach`. */
export function echoClients() {
  const open: EchoServiceClient[] = [];
  return {
    /** A new client of `address`, closed by {@link closeAll}. */
    connect(address: string, options?: EchoClientOptions): EchoServiceClient {
      const client = createEchoClient(address, options);
      open.push(client);
      return client;
    },
    closeAll(): void {
      open.splice(0).forEach((client) => client.close());
    },
  };
}
