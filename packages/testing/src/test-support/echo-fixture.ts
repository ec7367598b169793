import { createEchoClient } from '../echo-client';
import { startEchoServer, type EchoServerHandle } from '../echo-server';
import type { EchoServiceClient } from '../gen/grpc_proxy/testing/v1/echo';

/** The echo server a test runs against, and a client of it. */
export interface EchoFixture {
  readonly server: EchoServerHandle;
  readonly client: EchoServiceClient;
}

/**
 * Starts an echo server named `name` and a client of it before each test, and closes both after
 * it. Call at the top of a spec file or `describe` block.
 */
export function useEchoServer(name: string): EchoFixture {
  const fixture = {} as { server: EchoServerHandle; client: EchoServiceClient };
  beforeEach(async () => {
    fixture.server = await startEchoServer({ name });
    fixture.client = createEchoClient(fixture.server.address);
  });
  afterEach(() => {
    fixture.client.close();
    fixture.server.forceClose();
  });
  return fixture;
}
