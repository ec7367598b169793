/**
 * The fan-out specs' scene: three leg backends (`a`, `b`, `c`, see ./fan-out-backend.ts) and a
 * backend client of each, a proxy whose observer records call and mirror reports, and a raw
 * client of it. Everything is made fresh before each test and closed after it.
 */
import type { Client, StatusObject } from '@grpc/grpc-js';
import { createBackendClient } from '../backend-client';
import type {
  CallReport,
  FanOut,
  FanOutMember,
  MirrorReport,
  Route,
  StreamDirector,
} from '../contracts';
import type { ProxyHandlerOptions } from '../options';
import { createProxyServer } from '../server';
import { bindLocal, eventually, rawClient, type RunningServer } from './grpc-fixtures';
import { startLegBackend, type LegBackend } from './fan-out-backend';

/** The fan-out backend's name in the scene's routes. */
export const FAN = 'fan';

export interface FanOutScene {
  legs: LegBackend[];
  /** `createBackendClient` of each leg, in order. */
  legClients: Client[];
  proxy: RunningServer;
  client: Client;
  /** The director in use. Default: every call fanned out to the three legs, `'stream'`. */
  director: StreamDirector;
  readonly reports: CallReport[];
  readonly mirrorReports: MirrorReport[];
  readonly releases: StatusObject[];
  /** The legs' backend names (`dns:<target>`). */
  names(): string[];
  /** A route fanning out to `backends` (default: the three legs) whose `release` is recorded. */
  route(
    fanOut: Omit<FanOut, 'backends'> & { backends?: FanOutMember[] },
    extra?: Partial<Route>,
  ): Route;
  /** Waits for the call's report (exactly one expected) and gives it. */
  reported(): Promise<CallReport>;
}

/** The scene, with the proxy's `options` over the defaults. */
export function useFanOutScene(options: ProxyHandlerOptions = {}): FanOutScene {
  const scene = {
    reports: [] as CallReport[],
    mirrorReports: [] as MirrorReport[],
    releases: [] as StatusObject[],
    names: () => scene.legs.map((leg) => `dns:${leg.target}`),
    route: (fanOut, extra = {}) => ({
      backend: { name: FAN, fanOut: { backends: scene.legClients, ...fanOut } },
      release: (final: StatusObject) => scene.releases.push(final),
      ...extra,
    }),
    reported: async () => {
      await eventually(() => scene.reports.length > 0, 'the call reported');
      expect(scene.reports).toHaveLength(1);
      return scene.reports[0];
    },
  } as FanOutScene;

  beforeEach(async () => {
    scene.reports.length = 0;
    scene.mirrorReports.length = 0;
    scene.releases.length = 0;
    scene.legs = await Promise.all(['a', 'b', 'c'].map((id) => startLegBackend(id)));
    scene.legClients = scene.legs.map((leg) => createBackendClient(leg.target));
    scene.director = () => scene.route({ responses: 'stream' });
    const server = createProxyServer({
      director: (call) => scene.director(call),
      observer: {
        onCallEnd: (report) => scene.reports.push(report),
        onMirrorEnd: (report) => scene.mirrorReports.push(report),
      },
      ...options,
    });
    scene.proxy = await bindLocal(server);
    scene.client = rawClient(scene.proxy.target);
  });

  afterEach(async () => {
    scene.client.close();
    for (const client of scene.legClients) client.close();
    await scene.proxy.close();
    for (const leg of scene.legs) await leg.close();
  });

  return scene;
}

/**
 * Resolves with `count()` once it has not changed for `quietMs` (a writer held back), or as soon
 * as it exceeds `limit`; polls every 5 ms, at most 2 000 times.
 */
export async function whenStalled(
  count: () => number,
  limit: number,
  quietMs = 300,
): Promise<number> {
  let last = -1;
  let since = Date.now();
  for (let i = 0; i < 2000; i++) {
    const now = count();
    if (now > limit) return now;
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return now;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('the writer never stalled');
}
