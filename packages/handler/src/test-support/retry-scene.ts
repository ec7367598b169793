/**
 * A jest harness for transparent retries: backends that refuse streams (a bare `node:http2`
 * server answering `RST_STREAM REFUSED_STREAM`, or a `GOAWAY` that leaves a stream beyond its
 * last stream id), grpc-js test backends, a proxy whose director rotates over named routes, and
 * records of what the director, `release` and the observer saw. Everything a test starts is
 * closed after it.
 */
import * as http2 from 'node:http2';
import type { Client, StatusObject } from '@grpc/grpc-js';
import { createBackendClient } from '../backend-client';
import type { CallReport, ProxyCall, Route, RouteBackend, StreamDirector } from '../contracts';
import type { ProxyHandlerOptions } from '../options';
import { rawClient } from './grpc-fixtures';
import { startProxy } from './proxy-fixture';
import { respondWithMessage, startRawH2Backend, type RawH2Backend } from './raw-h2-backend';
import { startTestBackend, type TestBackend } from './test-backend';

/**
 * The status of an attempt refused by the backend on `port`: grpc-js words it after the stream's
 * close, or after a write still pending then (streaming calls, whose messages may follow later).
 */
export const refusedBy = (port: number): string =>
  expect.stringMatching(
    new RegExp(
      `^grpc-proxy: backend dns:127\\.0\\.0\\.1:${port} unavailable: ` +
        '(?:Stream refused by server|Write error: Stream closed with error code NGHTTP2_REFUSED_STREAM)$',
    ),
  ) as string;

/** A bare HTTP/2 backend and how many request streams reached it. */
export interface CountingBackend extends RawH2Backend {
  readonly streams: number;
}

/** When a refusing backend refuses a stream: on its headers, or once the whole request arrived. */
export type RefuseWhen = 'headers' | 'request';

/** One route of a rotation: a label for the records and the backend. */
export type NamedBackend = readonly [label: string, backend: RouteBackend];

/** Picks the route of the director's `ask`-th answer (from 0) for `call`. */
export type Pick = (ask: number, call: ProxyCall) => NamedBackend | Promise<NamedBackend>;

export interface Scene {
  /** Every call's report, in the order the calls ended. */
  readonly reports: CallReport[];
  /** `[label, code, details]` of every release, in order. */
  readonly releases: Array<[string, number, string]>;
  /** How many times the director was asked. */
  readonly asks: number;
  /** Starts a backend that refuses every stream with `REFUSED_STREAM`. */
  refusing(when?: RefuseWhen): Promise<CountingBackend>;
  /**
   * Starts a backend that answers the first stream of each connection (headers, the message
   * `first`, OK) and sends a `GOAWAY` naming that stream as the last when another one arrives.
   */
  goingAway(): Promise<CountingBackend>;
  /** Starts a bare backend whose streams go to `onStream`. */
  raw(onStream: (stream: http2.ServerHttp2Stream) => void): Promise<CountingBackend>;
  /** Starts a grpc-js test backend on `port` (default 0: any free port). */
  echo(port?: number): Promise<TestBackend>;
  /** A backend client (`createBackendClient`) of `target`. */
  clientOf(target: string): Client;
  /**
   * Starts a proxy whose director gives `routes` in turn (or what `pick` returns for the ask
   * numbered from 0, recorded alike) and returns a raw client of it.
   */
  proxy(routes: readonly NamedBackend[] | Pick, options?: ProxyHandlerOptions): Promise<Client>;
  /**
   * Starts a grpc-js test backend and a proxy whose director gives `first` (a backend, or the
   * target of one, labelled `label`) and the test backend (`echo`) in turn.
   */
  thenEcho(
    label: string,
    first: string | RouteBackend,
    options?: ProxyHandlerOptions,
  ): Promise<{ echo: TestBackend; client: Client }>;
}

/** The scene of each test. */
export function useRetryScene(): Scene {
  let closers: Array<() => unknown> = [];
  const scene = {
    reports: [] as CallReport[],
    releases: [] as Array<[string, number, string]>,
    asks: 0,
  } as Scene & { asks: number };

  async function raw(
    onStream: (stream: http2.ServerHttp2Stream) => void,
  ): Promise<CountingBackend> {
    let streams = 0;
    const backend = await startRawH2Backend((stream) => {
      streams++;
      onStream(stream);
    });
    closers.push(() => backend.close());
    return Object.defineProperty(backend, 'streams', { get: () => streams }) as CountingBackend;
  }

  const refuse = (stream: http2.ServerHttp2Stream): void =>
    stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);

  Object.assign(scene, {
    raw,
    refusing: (when: RefuseWhen = 'headers') =>
      raw((stream) => {
        if (when === 'headers') {
          refuse(stream);
        } else {
          stream.resume();
          stream.on('end', () => refuse(stream));
        }
      }),
    goingAway: () =>
      raw((stream) => {
        const id = stream.id ?? 1;
        if (id === 1) {
          stream.resume();
          respondWithMessage(stream, Buffer.from('first'));
          stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
          stream.end();
        } else {
          stream.session?.goaway(http2.constants.NGHTTP2_NO_ERROR, id - 2);
        }
      }),
    echo: async (port = 0) => {
      const backend = await startTestBackend(undefined, port);
      closers.push(() => backend.close());
      return backend;
    },
    clientOf: (target: string) => {
      const client = createBackendClient(target);
      closers.push(() => client.close());
      return client;
    },
    proxy: async (routes: readonly NamedBackend[] | Pick, options: ProxyHandlerOptions = {}) => {
      const pick: Pick =
        typeof routes === 'function' ? routes : (ask) => routes[ask % routes.length];
      const toRoute = ([label, backend]: NamedBackend): Route => ({
        backend,
        release: (final: StatusObject) => scene.releases.push([label, final.code, final.details]),
      });
      const director: StreamDirector = (call) => {
        const picked = pick(scene.asks++, call);
        return picked instanceof Promise ? picked.then(toRoute) : toRoute(picked);
      };
      const observer = { onCallEnd: (report: CallReport) => scene.reports.push(report) };
      const proxy = await startProxy(director, { observer, ...options });
      const client = rawClient(proxy.target);
      closers.push(
        () => proxy.close(),
        () => client.close(),
      );
      return client;
    },
  });

  scene.thenEcho = async (label, first, options) => {
    const echo = await scene.echo();
    const backend = typeof first === 'string' ? scene.clientOf(first) : first;
    const routes: NamedBackend[] = [
      [label, backend],
      ['echo', scene.clientOf(echo.target)],
    ];
    return { echo, client: await scene.proxy(routes, options) };
  };

  beforeEach(() => {
    scene.reports.length = 0;
    scene.releases.length = 0;
    scene.asks = 0;
  });

  afterEach(async () => {
    const toClose = closers.reverse();
    closers = [];
    for (const close of toClose) await close();
  });

  return scene;
}
