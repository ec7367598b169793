import { Client, connectivityState, credentials, status } from '@grpc/grpc-js';
import type { ProxyCall, Route } from '@grpc-proxy/handler';
import { createBackend, healthChecked, roundRobin } from './index';
import type { BackendSet, RouteTarget } from './index';
import {
  closeTarget,
  composeDirector,
  describeTarget,
  isBackendSet,
  isTargetAvailable,
  mapRoute,
  routeTo,
} from './route-target';
import { pickedName, proxyCall, statusError } from './test-support/calls';

const method = '/acme.v1.Echo/Unary';
const insecure = credentials.createInsecure();

/** A set of one member, serving or not as the test says. */
function oneMemberSet(serving: boolean): BackendSet {
  const member = createBackend('127.0.0.1:1', { name: 'member' });
  return {
    name: 'one',
    backends: [member],
    isServing: () => serving,
    isAvailable: () => serving,
    route: () => {
      if (!serving) throw new Error('unreachable in these tests');
      return { backend: member };
    },
    close: () => member.close(),
  };
}

/** A thenable that is not a native promise: it settles through `then` at once. */
function thenable(
  settle: (
    onFulfilled: (route: Route) => unknown,
    onRejected: (reason: unknown) => unknown,
  ) => unknown,
): Promise<Route> {
  return { then: settle } as unknown as Promise<Route>;
}

describe('route targets', () => {
  const clients: Client[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  const client = () => {
    const created = new Client('127.0.0.1:1', insecure);
    clients.push(created);
    return created;
  };

  describe('isBackendSet', () => {
    it('is true for a healthChecked set and a hand-made set', () => {
      const set = healthChecked([createBackend('127.0.0.1:1')]);
      expect(isBackendSet(set)).toBe(true);
      set.close();
      expect(isBackendSet(oneMemberSet(true))).toBe(true);
    });

    it('is false for backends, clients, channels, directors and partial shapes', () => {
      const { route, isServing, backends } = oneMemberSet(true);
      const targets = [
        createBackend('127.0.0.1:1'),
        client(),
        client().getChannel(),
        () => ({ backend: createBackend('127.0.0.1:1') }),
        roundRobin([createBackend('127.0.0.1:1')]),
        { backends, isServing },
        { backends, route },
        { backends: 'a', isServing, route },
      ];
      expect(targets.map((target) => isBackendSet(target as RouteTarget))).toEqual(
        Array(targets.length).fill(false),
      );
    });
  });

  describe('routeTo', () => {
    it('routes a backend, a client and a channel to themselves', () => {
      const backend = createBackend('127.0.0.1:1');
      const grpcClient = client();
      const channel = grpcClient.getChannel();
      for (const target of [backend, grpcClient, channel]) {
        expect(routeTo(target, proxyCall(method))).toEqual({ backend: target });
      }
    });

    it('asks a director and a set', async () => {
      const chosen = createBackend('127.0.0.1:1', { name: 'chosen' });
      const seen: ProxyCall[] = [];
      const call = proxyCall(method);
      const director = (asked: ProxyCall): Route => {
        seen.push(asked);
        return { backend: chosen };
      };
      const route = routeTo(director, call);
      expect(await pickedName(route)).toBe('chosen');
      expect(seen).toEqual([call]);
      expect(await pickedName(routeTo(oneMemberSet(true), call))).toBe('member');
    });

    it('refuses a closed backend with UNAVAILABLE naming it', () => {
      const gone = createBackend('127.0.0.1:1', { name: 'gone' });
      gone.close();
      expect(() => routeTo(gone, proxyCall(method))).toThrow(
        statusError(status.UNAVAILABLE, 'backend gone is closed'),
      );
    });
  });

  describe('isTargetAvailable', () => {
    it('asks targets that can tell, and assumes the others available', () => {
      const backend = createBackend('127.0.0.1:1');
      expect(isTargetAvailable(backend)).toBe(true);
      backend.close();
      expect(isTargetAvailable(backend)).toBe(false);
      expect(isTargetAvailable(oneMemberSet(false))).toBe(false);
      expect(isTargetAvailable(oneMemberSet(true))).toBe(true);
      expect(isTargetAvailable(client())).toBe(true);
      expect(isTargetAvailable(client().getChannel())).toBe(true);
      expect(isTargetAvailable(() => ({ backend }))).toBe(true);
    });
  });

  describe('closeTarget', () => {
    it('closes backends, clients, channels and sets, and twice is harmless', () => {
      const backend = createBackend('127.0.0.1:1');
      const set = oneMemberSet(true);
      const grpcClient = client();
      const channel = client().getChannel();
      for (const target of [backend, set, grpcClient, channel]) {
        closeTarget(target);
        closeTarget(target);
      }
      expect(backend.closed).toBe(true);
      expect(set.backends.map((member) => isTargetAvailable(member))).toEqual([false]);
      expect(grpcClient.getChannel().getConnectivityState(false)).toBe(connectivityState.SHUTDOWN);
      expect(channel.getConnectivityState(false)).toBe(connectivityState.SHUTDOWN);
    });

    it('leaves plain functions alone', () => {
      const director = jest.fn(() => ({ backend: createBackend('127.0.0.1:1') }));
      closeTarget(director);
      expect(director).not.toHaveBeenCalled();
    });
  });

  describe('describeTarget', () => {
    it('names backends, clients, channels and functions', () => {
      const grpcClient = client();
      function shards(): Route {
        throw new Error('not called');
      }
      expect(describeTarget(createBackend('127.0.0.1:1', { name: 'billing' }))).toBe('billing');
      expect(describeTarget(grpcClient)).toBe('dns:127.0.0.1:1');
      expect(describeTarget(grpcClient.getChannel())).toBe('dns:127.0.0.1:1');
      expect(describeTarget(roundRobin([createBackend('127.0.0.1:1', { name: 'a' })]))).toBe(
        'roundRobin(a)',
      );
      expect(describeTarget(shards)).toBe('shards');
      // Functions in an array literal get no inferred name.
      const [anonymous] = [() => shards()];
      expect(describeTarget(anonymous)).toBe('director');
    });
  });

  describe('mapRoute', () => {
    const backend = createBackend('127.0.0.1:1', { name: 'mapped' });
    const tag = (route: Route): Route => ({ ...route, callOptions: { host: 'tagged' } });

    it('changes a ready route at once, without a promise', () => {
      const mapped = mapRoute({ backend }, tag);
      expect(mapped).toEqual({ backend, callOptions: { host: 'tagged' } });
      expect(mapped).not.toBeInstanceOf(Promise);
    });

    it('changes a native promise once it resolves, and keeps its rejection', async () => {
      await expect(mapRoute(Promise.resolve({ backend }), tag)).resolves.toEqual({
        backend,
        callOptions: { host: 'tagged' },
      });
      const failure = new Error('no route');
      await expect(mapRoute(Promise.reject(failure), tag)).rejects.toBe(failure);
    });

    it('changes a custom thenable, and keeps its rejection', async () => {
      const mapped = mapRoute(
        thenable((onFulfilled) => onFulfilled({ backend })),
        tag,
      );
      expect(mapped).toBeInstanceOf(Promise);
      await expect(mapped).resolves.toEqual({ backend, callOptions: { host: 'tagged' } });

      const failure = new Error('custom rejection');
      const rejected = thenable((_onFulfilled, onRejected) => onRejected(failure));
      await expect(mapRoute(rejected, tag)).rejects.toBe(failure);
    });
  });

  describe('composeDirector', () => {
    it('routes through its function while open, under the given name', async () => {
      const backend = createBackend('127.0.0.1:1', { name: 'only' });
      const director = composeDirector('mine', [backend], () => ({ backend }));
      expect(director.name).toBe('mine');
      expect(await pickedName(director(proxyCall(method)))).toBe('only');
    });

    it('is available while open and its own check says so', () => {
      let up = true;
      const director = composeDirector(
        'mine',
        [],
        () => ({ backend: client() }),
        () => up,
      );
      expect(director.isAvailable()).toBe(true);
      up = false;
      expect(director.isAvailable()).toBe(false);
      up = true;
      director.close();
      expect(director.isAvailable()).toBe(false);
    });

    it('closes each owned target once, however often listed or closed, then refuses calls', () => {
      const shared = createBackend('127.0.0.1:1', { name: 'shared' });
      const other = createBackend('127.0.0.1:2', { name: 'other' });
      const closeShared = jest.spyOn(shared, 'close');
      const plain = jest.fn(() => ({ backend: other }));
      const director = composeDirector('mine', [shared, other, shared, plain], plain);
      director.close();
      director.close();
      expect(closeShared).toHaveBeenCalledTimes(1);
      expect([shared.closed, other.closed]).toEqual([true, true]);
      expect(plain).not.toHaveBeenCalled();
      expect(() => director(proxyCall(method))).toThrow(
        statusError(status.UNAVAILABLE, 'mine is closed'),
      );
    });
  });
});
