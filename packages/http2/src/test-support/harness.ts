/**
 * One echo backend, one http2 proxy in front of it with a director each test may replace, the
 * observer's reports and the routes' releases, and a grpc-js client of the proxy; all closed
 * after each test.
 */
import { Client, credentials, type StatusObject } from '@grpc/grpc-js';
import type { CallReport, Route, StreamDirector } from '@grpc-proxy/handler';
import {
  createEchoClient,
  startEchoServer,
  type EchoServerHandle,
  type EchoServiceClient,
} from '@grpc-proxy/testing';
import type { Http2ProxyOptions } from '../options';
import { startHttp2Proxy, type RunningProxy } from './proxy';

export interface Harness {
  readonly backend: EchoServerHandle;
  readonly proxy: RunningProxy;
  /** An echo client of the proxy. */
  readonly echo: EchoServiceClient;
  /** A raw client of the proxy (for `callRawUnary`). */
  readonly client: Client;
  /** The director of the next calls; default: every call to the echo backend. */
  director: StreamDirector;
  /** A route to the echo backend that records its release. */
  route(): Route;
  readonly reports: CallReport[];
  /** Calls the observer heard start. */
  readonly started: { count: number };
  readonly releases: StatusObject[];
  /** Resolves once `count` calls have been reported. */
  reported(count: number): Promise<CallReport[]>;
}

/** Registers beforeEach/afterEach that give each test a fresh {@link Harness}. */
export function useHarness(
  options: Omit<Http2ProxyOptions, 'director' | 'observer'> = {},
): Harness {
  const h = {} as { -readonly [K in keyof Harness]: Harness[K] };
  let waiters: Array<() => void> = [];
  beforeEach(async () => {
    const backend = await startEchoServer({ name: 'echo-backend' });
    const reports: CallReport[] = [];
    const started = { count: 0 };
    const releases: StatusObject[] = [];
    const route = (): Route => ({
      backend: { name: 'echo-backend', target: backend.address },
      release: (final) => releases.push(final),
    });
    const proxy = await startHttp2Proxy((call) => h.director(call), {
      ...options,
      observer: {
        onCallStart: () => started.count++,
        onCallEnd: (report) => {
          reports.push(report);
          for (const wake of waiters) wake();
        },
      },
    });
    Object.assign(h, {
      backend,
      proxy,
      reports,
      started,
      releases,
      route,
      director: route,
      echo: createEchoClient(proxy.address),
      client: new Client(proxy.address, credentials.createInsecure()),
      reported: (count: number) =>
        new Promise<CallReport[]>((resolve) => {
          const check = (): void => {
            if (reports.length < count) return;
            waiters = waiters.filter((w) => w !== check);
            resolve(reports);
          };
          waiters.push(check);
          check();
        }),
    });
  });
  afterEach(async () => {
    waiters = [];
    h.echo.close();
    h.client.close();
    await h.proxy.close();
    h.backend.forceClose();
  });
  return h;
}
