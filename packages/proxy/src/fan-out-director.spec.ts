import { Metadata, status, type StatusObject } from '@grpc/grpc-js';
import {
  ProxyStatusError,
  type Backend,
  type FanOutBackend,
  type Route,
} from '@grpc-proxy/handler';
import type { RoutableGroup } from './config-director';
import type { ResolvedFanOut } from './config/types';
import { fakeCall } from './test-support/proxy-call';
import { fanOutGroup, fanOutName } from './fan-out-director';

function backend(name: string): Backend {
  return {
    name,
    client: () => {
      throw new Error('not used');
    },
  };
}

const CALL = fakeCall('/s.S/M');

const OK: StatusObject = { code: status.OK, details: '', metadata: new Metadata() };

describe('fanOutGroup', () => {
  let released: string[] = [];
  /** A group that gives `target` (as `<name>/<target>`) and logs each release of its routes. */
  const group =
    (name: string, target: string): RoutableGroup =>
    () => ({
      backend: backend(`${name}/${target}`),
      release: (end) => released.push(`${name} ${end.code}`),
    });

  beforeEach(() => {
    released = [];
  });

  it('routes each call to one target of every backend, in order, named after them', () => {
    const fanOut: ResolvedFanOut = {
      backends: ['a', 'b', 'c'],
      responses: 'stream',
      onError: 'first-error',
    };
    const groups = new Map([
      ['a', group('a', 'x:1')],
      ['b', group('b', 'y:1')],
      ['c', group('c', 'z:1')],
    ]);
    const route = fanOutGroup(fanOut, groups)(CALL) as Route;
    const made = route.backend as FanOutBackend;
    expect(made.name).toBe('fan-out(a,b,c)');
    expect(made.fanOut.backends.map((member) => (member as Backend).name)).toEqual([
      'a/x:1',
      'b/y:1',
      'c/z:1',
    ]);
    expect([made.fanOut.responses, made.fanOut.onError]).toEqual(['stream', 'first-error']);

    route.release?.(OK);
    expect(released).toEqual(['a 0', 'b 0', 'c 0']);
  });

  it('takes the config name, and waits for groups that answer with a promise', async () => {
    const fanOut: ResolvedFanOut = {
      name: 'everyone',
      backends: ['a', 'b'],
      responses: 'merge',
      onError: 'skip',
    };
    const later: RoutableGroup = (call) => Promise.resolve(group('b', 'y:1')(call) as Route);
    const route = await fanOutGroup(
      fanOut,
      new Map([
        ['a', group('a', 'x:1')],
        ['b', later],
      ]),
    )(CALL);
    const made = route.backend as FanOutBackend;
    expect(made.name).toBe('everyone');
    expect(fanOutName(fanOut)).toBe('everyone');
    expect(made.fanOut.backends.map((member) => (member as Backend).name)).toEqual([
      'a/x:1',
      'b/y:1',
    ]);
    expect([made.fanOut.responses, made.fanOut.onError]).toEqual(['merge', 'skip']);
  });

  it('turns a group that gives no target into a leg out of rotation, with the reason', async () => {
    const fanOut: ResolvedFanOut = {
      backends: ['a', 'down', 'gone'],
      responses: 'stream',
      onError: 'skip',
    };
    const down: RoutableGroup = () => {
      throw new ProxyStatusError(status.UNAVAILABLE, 'no backend available for /s.S/M in down');
    };
    const gone: RoutableGroup = () => Promise.reject(new Error('group failed'));
    const route = await fanOutGroup(
      fanOut,
      new Map([
        ['a', group('a', 'x:1')],
        ['down', down],
        ['gone', gone],
      ]),
    )(CALL);
    const [, first, second] = (route.backend as FanOutBackend).fanOut.backends as Backend[];
    expect([first.name, first.isAvailable?.(), first.connectionError?.message]).toEqual([
      'down',
      false,
      'no backend available for /s.S/M in down',
    ]);
    expect([second.name, second.isAvailable?.(), second.connectionError?.message]).toEqual([
      'gone',
      false,
      'Error: group failed',
    ]);
    expect(() => first.client()).toThrow('no backend available for /s.S/M in down');

    route.release?.(OK);
    expect(released).toEqual(['a 0']);
  });
});
