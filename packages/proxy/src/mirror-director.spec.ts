import { Writable } from 'node:stream';
import { status } from '@grpc/grpc-js';
import { ProxyStatusError, type Backend, type MirrorReport } from '@grpc-proxy/handler';
import { createConfigDirector, routableCall, type RoutableGroup } from './config-director';
import type { ResolvedRoute } from './config/types';
import { combineObservers, createCallLogger, createLogger } from './logging';
import { createProxyMetrics } from './metrics';
import { skippedAsFailed, withConfigMirrors } from './mirror-director';
import { compileMirrors, compileRoutes } from './routing';
import { fakeCall } from './test-support/proxy-call';

function backend(name: string): Backend {
  return { name, client: () => Promise.reject(new Error('not used')) as never };
}

const call = fakeCall;

const main = backend('main/m:1');
const shadowA = backend('shadow/s:1');
const shadowB = backend('shadow/s:2');

/** A config director over `main`, `shadow` (two targets in rotation) and `down` (none serving). */
function mirroredDirector(routes: ResolvedRoute[], topLevel: ResolvedRoute['mirror'] = []) {
  let next = 0;
  const groups = new Map<string, RoutableGroup>([
    ['main', () => ({ backend: main })],
    ['shadow', () => ({ backend: [shadowA, shadowB][next++ % 2] })],
    [
      'down',
      () => {
        throw new ProxyStatusError(status.UNAVAILABLE, 'no backend available in down');
      },
    ],
    ['later', () => Promise.resolve({ backend: shadowB })],
  ]);
  const skipped: MirrorReport[] = [];
  const mirrors = compileMirrors(routes, topLevel ?? []);
  const routed = createConfigDirector(compileRoutes(routes, 'main'), groups);
  const director =
    mirrors &&
    withConfigMirrors(routed, mirrors, groups, routableCall, (proxyCall, name, error) =>
      skippedAsFailed({ onMirrorEnd: (report) => skipped.push(report) })(proxyCall, name, error),
    );
  return { director, skipped };
}

const backendsOf = (mirror: unknown) =>
  (mirror as { backend: Backend }[] | undefined)?.map((each) => each.backend.name);

describe('withConfigMirrors', () => {
  it('is not used at all when the config has no mirror', () => {
    expect(mirroredDirector([{ service: 'a.A', backend: 'main' }]).director).toBeUndefined();
  });

  it("adds the route's mirrors, else the top-level ones, each a target of its group in rotation", async () => {
    const { director } = mirroredDirector(
      [
        { service: 'a.A', backend: 'main', mirror: [{ backend: 'shadow', percent: 100 }] },
        { service: 'b.B', backend: 'main' },
      ],
      [{ backend: 'later', percent: 100 }],
    );
    const first = await director!(call('/a.A/M'));
    expect(first.backend).toBe(main);
    expect(backendsOf(first.mirror)).toEqual(['shadow/s:1']);
    expect(backendsOf((await director!(call('/a.A/M'))).mirror)).toEqual(['shadow/s:2']);
    // A route without mirrors, and a call no route matches (the default backend): the top level.
    const other = director!(call('/b.B/M'));
    expect(other).toBeInstanceOf(Promise);
    expect(backendsOf((await other).mirror)).toEqual(['shadow/s:2']);
    expect(backendsOf((await director!(call('/c.C/M'))).mirror)).toEqual(['shadow/s:2']);
  });

  it('samples by percent before picking a target: 0 never copies nor turns the rotation', async () => {
    const { director } = mirroredDirector([
      {
        service: 'a.A',
        backend: 'main',
        mirror: [
          { backend: 'shadow', percent: 0 },
          { backend: 'main', percent: 100 },
        ],
      },
      { service: 'b.B', backend: 'main', mirror: [{ backend: 'shadow', percent: 100 }] },
    ]);
    for (let i = 0; i < 20; i += 1) {
      expect(backendsOf((await director!(call('/a.A/M'))).mirror)).toEqual(['main/m:1']);
    }
    expect(backendsOf((await director!(call('/b.B/M'))).mirror)).toEqual(['shadow/s:1']);
    const zero = mirroredDirector([], [{ backend: 'shadow', percent: 0 }]).director!;
    const route = await zero(call('/a.A/M'));
    expect(route.mirror).toBeUndefined();
  });

  it('skips a mirror whose group has no target and reports it failed; the call goes on', async () => {
    const { director, skipped } = mirroredDirector(
      [],
      [
        { backend: 'down', percent: 100 },
        { backend: 'shadow', percent: 100 },
      ],
    );
    const route = await director!(call('/a.A/M'));
    expect(route.backend).toBe(main);
    expect(backendsOf(route.mirror)).toEqual(['shadow/s:1']);
    expect(skipped).toEqual([
      {
        method: '/a.A/M',
        backend: 'down',
        outcome: 'failed',
        code: status.UNAVAILABLE,
        details: 'no backend available in down',
      },
    ]);
  });

  it("keeps the route's rejection and picks no mirror target for it", () => {
    const { director } = mirroredDirector(
      [{ service: 'a.A', backend: 'gone', mirror: [{ backend: 'shadow', percent: 100 }] }],
      [],
    );
    expect(() => director!(call('/a.A/M'))).toThrow(
      expect.objectContaining({
        code: status.UNIMPLEMENTED,
        details: 'grpc-proxy: no route for /a.A/M',
      }),
    );
  });
});

describe('mirror metrics and logs', () => {
  it('counts copies by mirror backend and outcome, and logs one debug line per copy', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    }) as unknown as NodeJS.WritableStream & { write(msg: string): void };
    const metrics = createProxyMetrics({ processMetrics: false });
    metrics.addTarget('shadow/s:1', 'shadow', 's:1');
    const logger = createLogger({ level: 'debug', pretty: false, destination });
    const observer = combineObservers(metrics.observer, createCallLogger(logger));
    const copy = { method: '/a.A/M', backend: 'shadow/s:1', code: status.OK, details: '' };
    observer.onMirrorEnd?.({ ...copy, outcome: 'completed' });
    observer.onMirrorEnd?.({ ...copy, outcome: 'completed', code: status.NOT_FOUND });
    observer.onMirrorEnd?.({
      ...copy,
      outcome: 'dropped',
      code: status.CANCELLED,
      details: 'mirror fell behind',
    });
    const text = await metrics.registry.getSingleMetricAsString('grpc_proxy_mirrored_calls_total');
    expect(text.split('\n').filter((line) => !line.startsWith('#'))).toEqual([
      'grpc_proxy_mirrored_calls_total{backend="shadow",outcome="completed"} 2',
      'grpc_proxy_mirrored_calls_total{backend="shadow",outcome="dropped"} 1',
    ]);
    expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ level: 20, msg: 'mirrored copy completed', code: 'OK' }),
      expect.objectContaining({ msg: 'mirrored copy completed', code: 'NOT_FOUND' }),
      expect.objectContaining({
        msg: 'mirrored copy dropped',
        method: '/a.A/M',
        backend: 'shadow/s:1',
        code: 'CANCELLED',
        details: 'mirror fell behind',
      }),
    ]);
  });

  it('combines no onMirrorEnd when no observer has one', () => {
    expect(combineObservers({ onCallEnd: () => undefined }).onMirrorEnd).toBeUndefined();
  });
});
