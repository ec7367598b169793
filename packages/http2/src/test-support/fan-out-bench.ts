/**
 * What each fan-out spec test gets: echo servers `a`, `b` and `c`, the http2 proxy (its
 * observer's reports, ./mirror-proxy.ts) whose director fans every call out by the test's
 * settings, a client, and cleanup after each test.
 */
import { status } from '@grpc/grpc-js';
import type {
  FanOut,
  FanOutMember,
  FanOutOutcome,
  Route,
  StreamDirector,
} from '@grpc-proxy/handler';
import {
  createEchoClient,
  startEchoServer,
  type EchoServerHandle,
  type EchoServiceClient,
} from '@grpc-proxy/testing';
import type { Http2ProxyOptions } from '../options';
import { startMirrorProxy, type MirrorProxy } from './mirror-proxy';

export interface FanOutBench {
  readonly a: EchoServerHandle;
  readonly b: EchoServerHandle;
  readonly c: EchoServerHandle;
  readonly proxy: MirrorProxy;
  readonly echo: EchoServiceClient;
  /** The fan-out's members; default: `a`, `b`, `c` by name and target. */
  members: FanOutMember[];
  /** The fan-out's rules; default: `{ responses: 'stream' }`. */
  rules: Omit<FanOut, 'backends'>;
  /** The route's mirror; default: none. */
  mirror: Route['mirror'];
  /** Things to close after the test (raw backends...). */
  readonly closers: (() => Promise<void> | void)[];
  /**
   * Starts the proxy and its client; `director` in place of the default (a route to
   * `fan-out(...)` of {@link members} by {@link rules}), given that route.
   */
  start(
    options?: Omit<Http2ProxyOptions, 'director' | 'observer'>,
    director?: (route: Route) => StreamDirector,
  ): Promise<void>;
}

/** The details of a leg cancelled because its call ended first. */
export const FAN_OUT_ENDED = 'grpc-proxy: fan-out call ended before this backend';

/** The `CallReport.fanOut` outcome of a leg cancelled because its call ended first. */
export function cancelledLeg(backend: string, messages: number): FanOutOutcome {
  return { backend, code: status.CANCELLED, details: FAN_OUT_ENDED, proxyError: true, messages };
}

/** The route the bench's default director gives. */
export function fanOutRoute(bench: FanOutBench): Route {
  return {
    backend: { name: 'fan', fanOut: { backends: bench.members, ...bench.rules } },
    mirror: bench.mirror,
  };
}

/** Registers beforeEach/afterEach for a {@link FanOutBench}; call `start` in each test. */
export function useFanOutBench(): FanOutBench {
  const bench = { closers: [] } as unknown as {
    -readonly [K in keyof FanOutBench]: FanOutBench[K];
  };
  bench.start = async (options = {}, director) => {
    const route = (): Route => fanOutRoute(bench);
    bench.proxy = await startMirrorProxy(director?.(route()) ?? route, options);
    bench.echo = createEchoClient(bench.proxy.address);
  };
  beforeEach(async () => {
    bench.a = await startEchoServer({ name: 'a' });
    bench.b = await startEchoServer({ name: 'b' });
    bench.c = await startEchoServer({ name: 'c' });
    bench.members = [bench.a, bench.b, bench.c].map((s) => ({ name: s.name, target: s.address }));
    bench.rules = { responses: 'stream' };
    bench.mirror = undefined;
  });
  afterEach(async () => {
    bench.echo?.close();
    await bench.proxy?.close();
    for (const close of bench.closers.splice(0)) await close();
    for (const server of [bench.a, bench.b, bench.c]) server.forceClose();
    bench.echo = undefined as never;
    bench.proxy = undefined as never;
  });
  return bench;
}
