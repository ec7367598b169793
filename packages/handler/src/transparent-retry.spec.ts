import { status, type Client } from '@grpc/grpc-js';
import {
  callRawBidi,
  callRawClientStream,
  callRawServerStream,
  callRawUnary,
  type CallOutcome,
} from '@grpc-proxy/testing';
import { MAX_CALL_ATTEMPTS } from './transparent-retry';
import { eventually } from './test-support/grpc-fixtures';
import { refusedBy, useRetryScene, type RefuseWhen } from './test-support/retry-scene';
import { ECHO } from './test-support/test-backend';

/** One call of each kind, with the messages `abc` split as the kind allows. */
const ABC = ['a', 'b', 'c'].map((s) => Buffer.from(s));

const CALLS: [string, (client: Client) => Promise<CallOutcome<Buffer>>, Buffer[]][] = [
  [
    'unary',
    (client) => callRawUnary(client, `${ECHO}/Unary`, Buffer.from('abc')),
    [Buffer.from('echo:abc')],
  ],
  [
    'client-streaming',
    (client) => callRawClientStream(client, `${ECHO}/ClientStream`, ABC),
    [Buffer.from('n=3:abc')],
  ],
  [
    'server-streaming',
    (client) => callRawServerStream(client, `${ECHO}/ServerStream`, Buffer.from('abc')),
    [0, 1, 2].map((i) => Buffer.concat([Buffer.from('abc'), Buffer.from([i])])),
  ],
  ['bidi', (client) => callRawBidi(client, `${ECHO}/Bidi`, ABC), ABC],
];

const WHEN: RefuseWhen[] = ['headers', 'request'];
const CASES = CALLS.flatMap(([kind, call, responses]) =>
  WHEN.map((when) => [kind, when, call, responses] as const),
);

describe('transparent retries of refused streams', () => {
  const scene = useRetryScene();

  it.each(CASES)(
    'sends a %s call refused on its %s to the next backend the director gives',
    async (_kind, when, call, responses) => {
      const refusing = await scene.refusing(when);
      const { echo, client } = await scene.thenEcho('refusing', refusing.target);
      const outcome = await call(client);
      expect([outcome.status.code, outcome.responses]).toEqual([status.OK, responses]);
      await eventually(() => scene.reports.length === 1, 'observer heard the end');
      expect(scene.reports[0]).toMatchObject({
        code: status.OK,
        retries: 1,
        backend: `dns:${echo.target}`,
      });
      expect(scene.asks).toBe(2);
      expect(scene.releases).toEqual([
        ['refusing', status.UNAVAILABLE, refusedBy(refusing.port)],
        ['echo', status.OK, 'OK'],
      ]);
      expect([refusing.streams, echo.seen.length]).toEqual([1, 1]);
    },
  );

  it('loses no call of 20 concurrent ones of each kind when every first attempt is refused', async () => {
    const refusing = await scene.refusing();
    const echo = await scene.echo();
    const routes = {
      refusing: scene.clientOf(refusing.target),
      echo: scene.clientOf(echo.target),
    };
    const asked = new WeakSet<object>();
    // The first ask of each call gives the refusing backend, the second the good one.
    const client = await scene.proxy((_ask, call) => {
      if (asked.has(call)) return ['echo', routes.echo];
      asked.add(call);
      return ['refusing', routes.refusing];
    });
    const calls = CALLS.flatMap(([, call]) => Array.from({ length: 20 }, () => call(client)));
    const outcomes = await Promise.all(calls);
    expect(outcomes.filter((outcome) => outcome.status.code !== status.OK)).toEqual([]);
    await eventually(() => scene.reports.length === 80, 'observer heard every end');
    expect(scene.reports.map((report) => report.retries)).toEqual(Array(80).fill(1));
    expect([scene.asks, refusing.streams, echo.seen.length]).toEqual([160, 80, 80]);
    expect(scene.releases.filter(([label]) => label === 'refusing')).toHaveLength(80);
  });

  it('loses no call while a grpc-js backend restarts gracefully (GOAWAY) twice under load', async () => {
    const a = await scene.echo();
    const b = await scene.echo();
    const clients = { a: scene.clientOf(a.target), b: scene.clientOf(b.target) };
    // Calls alternate between a and b; a retry goes to the other one (as roundRobin, skipping
    // the one that failed, would).
    const given = new WeakMap<object, 'a' | 'b'>();
    let turn = 0;
    const client = await scene.proxy((_ask, call) => {
      const previous = given.get(call);
      const label = previous ? (previous === 'a' ? 'b' : 'a') : turn++ % 2 === 0 ? 'a' : 'b';
      given.set(call, label);
      return [label, clients[label]];
    });
    let restarting = true;
    const failures: string[] = [];
    let calls = 0;
    const caller = async () => {
      for (let i = 0; restarting && i < 100_000; i++) {
        calls++;
        const outcome = await callRawUnary(client, `${ECHO}/Unary`, Buffer.from('x'));
        if (outcome.status.code !== status.OK) failures.push(outcome.status.details);
      }
    };
    const callers = Array.from({ length: 10 }, caller);
    for (let restart = 0; restart < 2; restart++) {
      await eventually(() => a.seen.length >= 20, 'a serves calls');
      await new Promise<void>((resolve) => a.server.tryShutdown(() => resolve()));
      Object.assign(a, await scene.echo(a.port));
    }
    await eventually(() => a.seen.length > 0, 'a serves calls again');
    restarting = false;
    await Promise.all(callers);
    expect(failures).toEqual([]);
    await eventually(() => scene.reports.length === calls, 'observer heard every end');
    const retries = scene.reports.reduce((sum, report) => sum + report.retries, 0);
    const left = scene.releases.filter(([, code]) => code === status.UNAVAILABLE);
    expect(retries).toBe(left.length);
  });

  it('tries each backend at most twice, then ends with the last attempt’s status', async () => {
    const [a, b] = await Promise.all([scene.refusing(), scene.refusing()]);
    const client = await scene.proxy([
      ['a', scene.clientOf(a.target)],
      ['b', scene.clientOf(b.target)],
    ]);
    const outcome = await callRawUnary(client, `${ECHO}/Unary`, Buffer.from('x'));
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.UNAVAILABLE,
      refusedBy(b.port),
    ]);
    await eventually(() => scene.reports.length === 1, 'observer heard the end');
    expect(scene.reports[0]).toMatchObject({
      retries: 3,
      proxyError: true,
      backend: `dns:${b.target}`,
    });
    // Four attempts; then each route the director gives (a, b, a... each tried twice already) is
    // refused by the budget and released at once, and the director asked again, five times.
    expect(scene.asks).toBe(4 + MAX_CALL_ATTEMPTS);
    expect(scene.releases).toEqual([
      ['a', status.UNAVAILABLE, refusedBy(a.port)],
      ['b', status.UNAVAILABLE, refusedBy(b.port)],
      ['a', status.UNAVAILABLE, refusedBy(a.port)],
      ['b', status.UNAVAILABLE, refusedBy(b.port)],
      ...['a', 'b', 'a', 'b', 'a'].map((name) => [name, status.UNAVAILABLE, refusedBy(b.port)]),
    ]);
    expect([a.streams, b.streams]).toEqual([2, 2]);
  });

  it('retries a stream beyond the last stream id of a GOAWAY', async () => {
    const goingAway = await scene.goingAway();
    const { client } = await scene.thenEcho('going-away', goingAway.target);
    const first = await callRawUnary(client, `${ECHO}/Unary`, Buffer.from('one'));
    const second = await callRawUnary(client, `${ECHO}/Unary`, Buffer.from('two'));
    // Stream 3 on the same connection: the backend sends GOAWAY naming stream 1 as the last.
    const third = await callRawUnary(client, `${ECHO}/Unary`, Buffer.from('three'));
    expect(
      [first, second, third].map((outcome) => [outcome.status.code, outcome.responses]),
    ).toEqual([
      [status.OK, [Buffer.from('first')]],
      [status.OK, [Buffer.from('echo:two')]],
      [status.OK, [Buffer.from('echo:three')]],
    ]);
    await eventually(() => scene.reports.length === 3, 'observer heard every end');
    expect(scene.reports.map((report) => report.retries)).toEqual([0, 0, 1]);
    expect(scene.asks).toBe(4);
    expect(scene.releases[2]).toEqual([
      'going-away',
      status.UNAVAILABLE,
      refusedBy(goingAway.port),
    ]);
    expect(goingAway.streams).toBe(2);
  });

  it.each([
    ['one message of 64 KiB', true, [64 * 1024]],
    ['one message of 64 KiB and 1 byte', false, [64 * 1024 + 1]],
    ['two messages of 40 KiB', false, [40 * 1024, 40 * 1024]],
  ])('holds at most 64 KiB of request: %s is retried: %s', async (_what, retried, sizes) => {
    const refusing = await scene.refusing('request');
    const { echo, client } = await scene.thenEcho('refusing', refusing.target);
    const requests = sizes.map((size, i) => Buffer.alloc(size, i + 1));
    const outcome = await callRawClientStream(client, `${ECHO}/ClientStream`, requests);
    await eventually(() => scene.reports.length === 1, 'observer heard the end');
    if (retried) {
      const response = Buffer.concat([Buffer.from(`n=${sizes.length}:`), ...requests]);
      expect([outcome.status.code, outcome.responses]).toEqual([status.OK, [response]]);
      expect([scene.reports[0].retries, scene.asks]).toEqual([1, 2]);
    } else {
      expect([outcome.status.code, outcome.status.details]).toEqual([
        status.UNAVAILABLE,
        refusedBy(refusing.port),
      ]);
      expect([scene.reports[0].retries, scene.asks, echo.seen.length]).toEqual([0, 1, 0]);
    }
  });
});
