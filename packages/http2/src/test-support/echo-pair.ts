import { startEchoServer, type EchoServerHandle } from '@grpc-proxy/testing';

/** Two echo servers, `a` and `b` (named so in their responses), fresh for each test. */
export interface EchoPair {
  readonly a: EchoServerHandle;
  readonly b: EchoServerHandle;
}

/** Registers beforeEach/afterEach that start and stop an {@link EchoPair}. */
export function useEchoPair(): EchoPair {
  const pair = {} as { a: EchoServerHandle; b: EchoServerHandle };
  beforeEach(async () => {
    pair.a = await startEchoServer({ name: 'a' });
    pair.b = await startEchoServer({ name: 'b' });
  });
  afterEach(() => {
    pair.a.forceClose();
    pair.b.forceClose();
  });
  return pair;
}
