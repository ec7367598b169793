import { status, type Channel } from '@grpc/grpc-js';
import { callRawUnary, openRawBidi, useProcessWarnings } from '@grpc-proxy/testing';
import { createBackendClient } from './backend-client';
import type { Backend } from './contracts';
import { ProxyStatusError } from './status-error';
import { entries, eventually } from './test-support/grpc-fixtures';
import { useHarness } from './test-support/harness';
import { ECHO } from './test-support/test-backend';

describe('routes', () => {
  const h = useHarness();
  const warnings = useProcessWarnings();

  it('accepts a Backend object and reports its name', async () => {
    const backend: Backend = { name: 'pool-a', client: () => h.backendClient };
    h.director = () => h.route({ backend });
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('b'));
    expect([outcome.status.code, outcome.responses]).toEqual([status.OK, [Buffer.from('echo:b')]]);
    await eventually(() => h.reports.length === 1, 'observer heard the end');
    expect(h.reports[0].backend).toBe('pool-a');
  });

  it.each([
    ['an Error', new Error('pool-b is closed')],
    ['a status error', new ProxyStatusError(status.UNAVAILABLE, 'pool-b is closed')],
    ['a TypeError (a closed pool that lost its state)', new TypeError('pool-b is closed')],
  ])(
    'reports a Backend whose client() throws %s as UNAVAILABLE naming the proxy and the backend',
    async (_what, thrown) => {
      const backend: Backend = {
        name: 'pool-b',
        client: () => {
          throw thrown;
        },
      };
      h.director = () => h.route({ backend });
      const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('b'));
      expect([outcome.status.code, outcome.status.details]).toEqual([
        status.UNAVAILABLE,
        'grpc-proxy: backend pool-b unavailable: pool-b is closed',
      ]);
      await eventually(() => h.releases.length === 1, 'route released');
      expect(h.releases[0].code).toBe(status.UNAVAILABLE);
      await eventually(() => h.reports.length === 1, 'observer heard the end');
      expect(h.reports[0]).toMatchObject({
        backend: 'pool-b',
        code: status.UNAVAILABLE,
        proxyError: true,
      });
      expect(h.reports[0].error).toBe(thrown);
      expect(warnings).toEqual([]);
    },
  );

  it('reports a closed backend client as UNAVAILABLE naming the proxy and the backend', async () => {
    const closed = createBackendClient(h.backend.target);
    closed.close();
    h.director = () => h.route({ backend: { name: 'pool-c', client: () => closed } });
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('c'));
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.UNAVAILABLE,
      'grpc-proxy: backend pool-c unavailable: Channel has been shut down',
    ]);
    expect(h.backend.seen).toEqual([]);
    await eventually(() => h.reports.length === 1, 'observer heard the end');
    expect(h.reports[0].error).toEqual(new Error('Channel has been shut down'));
    expect(warnings).toEqual([]);
  });

  it('reports a Backend whose client() gives no grpc-js Client as an invalid route', async () => {
    const backend = { name: 'pool-d', client: () => ({}) } as unknown as Backend;
    h.director = () => h.route({ backend });
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('d'));
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.INTERNAL,
      'grpc-proxy: director returned an invalid route: Backend pool-d: client() returned no grpc-js Client',
    ]);
    expect(warnings).toEqual([
      expect.stringMatching(
        /^grpc-proxy: director returned an invalid route for \/test\.Echo\/Unary: TypeError: Backend pool-d: client\(\) returned no grpc-js Client\n {4}at /,
      ),
    ]);
  });

  it('reports route call options grpc-js rejects as an invalid route', async () => {
    h.director = () => h.route({ callOptions: { deadline: 'soon' as unknown as number } });
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('e'));
    expect([outcome.status.code, outcome.status.details]).toEqual([
      status.INTERNAL,
      'grpc-proxy: director returned an invalid route: Channel#createCall: deadline must be a number or Date',
    ]);
    await eventually(() => h.reports.length === 1, 'observer heard the end');
    const error = h.reports[0].error as Error;
    expect(error).toEqual(new TypeError('Channel#createCall: deadline must be a number or Date'));
    expect(warnings).toEqual([
      `grpc-proxy: director returned an invalid route for ${ECHO}/Unary: ${error.stack}`,
    ]);
  });

  it('accepts a grpc-js Channel', async () => {
    h.director = () => h.route({ backend: h.backendClient.getChannel() });
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('c'));
    expect([outcome.status.code, outcome.responses]).toEqual([status.OK, [Buffer.from('echo:c')]]);
  });

  it('accepts a Channel wrapper that only has createCall and getTarget', async () => {
    const channel = h.backendClient.getChannel();
    const wrapper = {
      createCall: channel.createCall.bind(channel),
      getTarget: () => 'wrapped-channel',
    } as unknown as Channel;
    h.director = () => h.route({ backend: wrapper });
    const outcome = await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('w'));
    expect([outcome.status.code, outcome.responses]).toEqual([status.OK, [Buffer.from('echo:w')]]);
    await eventually(() => h.reports.length === 1, 'observer heard the end');
    expect(h.reports[0].backend).toBe('wrapped-channel');
  });

  it('applies a route deadline shorter than the client one', async () => {
    h.director = () => h.route({ callOptions: { deadline: Date.now() + 100 } });
    const { call, outcome } = openRawBidi(h.client, `${ECHO}/Hang`, {
      options: { deadline: Date.now() + 20_000 },
    });
    call.write(Buffer.from('x'));
    const result = await outcome;
    expect(result.status.code).toBe(status.DEADLINE_EXCEEDED);
    // Two timers race for the same instant: the proxy's backend call (its status then names the
    // proxy and the backend) and the backend's own, started from the propagated grpc-timeout (its
    // status then passes unchanged). A loaded machine lets either fire first.
    expect(result.status.details).toMatch(
      /^(grpc-proxy: backend dns:127\.0\.0\.1:\d+ failed: )?Deadline exceeded/,
    );
    await eventually(
      () => h.backend.seen[0]?.cancelled === true,
      'backend call ended by the route deadline',
    );
  });

  it('never lets status keys of the backend headers through as metadata', async () => {
    const outcome = await callRawUnary(h.client, `${ECHO}/ForgedHeaders`, Buffer.from('f'));
    expect([outcome.status.code, outcome.status.details]).toEqual([status.OK, 'OK']);
    expect(outcome.responses).toEqual([Buffer.from('f')]);
    const headerKeys = Object.keys(entries(outcome.headers));
    expect(headerKeys.sort()).toEqual(['content-type', 'date', 'x-header', 'x-header-bin']);
  });

  it('never sends status keys the director put into the request metadata', async () => {
    h.director = (call) => {
      call.metadata.set('grpc-status', '0');
      call.metadata.set('grpc-message', 'forged');
      return h.route();
    };
    await callRawUnary(h.client, `${ECHO}/Unary`, Buffer.from('x'));
    const atBackend = entries(h.backend.seen[0].metadata);
    expect(atBackend['grpc-status']).toBeUndefined();
    expect(atBackend['grpc-message']).toBeUndefined();
  });
});
