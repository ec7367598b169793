/**
 * An http2 proxy for the mirror specs: the observer's mirror and call reports, and a way to wait
 * for the n-th of each (an event, not a poll).
 */
import { EventEmitter } from 'node:events';
import type { CallReport, MirrorReport, Route, StreamDirector } from '@grpc-proxy/handler';
import { createEchoClient, type EchoServiceClient } from '@grpc-proxy/testing';
import type { Http2ProxyOptions } from '../options';
import { useEchoPair, type EchoPair } from './echo-pair';
import { startHttp2Proxy, type RunningProxy } from './proxy';
import type { RawBackend } from './raw-h2';
import { waitFor } from './wait';

export interface MirrorProxy extends RunningProxy {
  /** Every `onMirrorEnd` report, in order. */
  readonly mirrors: MirrorReport[];
  /** Every `onCallEnd` report, in order. */
  readonly calls: CallReport[];
  /** Resolves once `count` copies have been reported. */
  mirrorEnds(count: number): Promise<MirrorReport[]>;
  /** Resolves once `count` calls have been reported. */
  callEnds(count: number): Promise<CallReport[]>;
}

/** Starts the http2 engine on 127.0.0.1:0 with `director`, recording its observer's reports. */
export async function startMirrorProxy(
  director: StreamDirector,
  options: Omit<Http2ProxyOptions, 'director' | 'observer'> = {},
): Promise<MirrorProxy> {
  const events = new EventEmitter();
  const mirrors: MirrorReport[] = [];
  const calls: CallReport[] = [];
  const running = await startHttp2Proxy(director, {
    ...options,
    observer: {
      onMirrorEnd: (report) => {
        mirrors.push(report);
        events.emit('report');
      },
      onCallEnd: (report) => {
        calls.push(report);
        events.emit('report');
      },
    },
  });
  const reached = <T>(list: T[], count: number, what: string): Promise<T[]> =>
    waitFor(
      events,
      'report',
      () => list.length >= count,
      () => `${count} ${what} reports, got ${list.length}`,
    ).then(() => list);
  return {
    ...running,
    mirrors,
    calls,
    mirrorEnds: (count) => reached(mirrors, count, 'mirror'),
    callEnds: (count) => reached(calls, count, 'call'),
  };
}

/** What each mirror spec test gets: echo servers `a` (primary) and `b`, the proxy, a client. */
export interface MirrorBench {
  readonly pair: EchoPair;
  readonly proxy: MirrorProxy;
  readonly echo: EchoServiceClient;
  /** The mirror of the route to `a` the director gives; default: none. */
  mirror: Route['mirror'];
  /** A raw backend the test started, closed after it. */
  raw: RawBackend | undefined;
  /** Starts the proxy (routing to `a` with {@link mirror}) and its client. */
  start(options?: Omit<Http2ProxyOptions, 'director' | 'observer'>): Promise<void>;
}

/** Registers beforeEach/afterEach for a {@link MirrorBench}; call `start` in each test. */
export function useMirrorBench(): MirrorBench {
  const pair = useEchoPair();
  const bench = { pair, mirror: undefined, raw: undefined } as {
    -readonly [K in keyof MirrorBench]: MirrorBench[K];
  };
  bench.start = async (options = {}) => {
    const director = (): Route => ({
      backend: { name: 'a', target: pair.a.address },
      mirror: bench.mirror,
    });
    bench.proxy = await startMirrorProxy(director, options);
    bench.echo = createEchoClient(bench.proxy.address);
  };
  beforeEach(() => {
    bench.mirror = undefined;
  });
  afterEach(async () => {
    bench.echo?.close();
    await bench.proxy?.close();
    await bench.raw?.close();
    bench.raw = undefined;
  });
  return bench;
}
