import { Metadata, status } from '@grpc/grpc-js';
import { callEcho, echoRequest, startEchoServer } from '@grpc-proxy/testing';
import type { EchoServerHandle, EchoServiceClient } from '@grpc-proxy/testing';
import type { ComposedDirector } from './index';
import { byMetadata, byService, createBackend } from './index';
import type { DirectedProxy } from './test-support/proxy';
import { startDirectedProxy } from './test-support/proxy';

/** The statuses directors reject with reach the client exactly, through the handler. */
describe('rejections through a proxy', () => {
  let backend: EchoServerHandle;
  let director: ComposedDirector;
  let proxy: DirectedProxy;
  let client: EchoServiceClient;

  async function startProxy(chosen: ComposedDirector) {
    director = chosen;
    proxy = await startDirectedProxy(director);
    client = proxy.client;
  }

  beforeEach(async () => {
    backend = await startEchoServer({ name: 'only' });
  });

  afterEach(async () => {
    await proxy.close();
    director.close();
    await backend.close();
  });

  const tenant = (value: string) => {
    const metadata = new Metadata();
    metadata.set('x-tenant', value);
    return metadata;
  };

  it('byMetadata without a route: UNIMPLEMENTED naming key and value, backend untouched', async () => {
    await startProxy(byMetadata('x-tenant', { blue: createBackend(backend.address) }));
    const outcome = await callEcho(client, echoRequest(), { metadata: tenant('purple') });
    expect(outcome.status.code).toBe(status.UNIMPLEMENTED);
    expect(outcome.status.details).toBe('no route for metadata key "x-tenant" value "purple"');
    expect(outcome.responses).toEqual([]);
    expect(backend.calls).toEqual([]);
    const served = await callEcho(client, echoRequest(), { metadata: tenant('blue') });
    expect(served.responses.map((response) => response.serverName)).toEqual(['only']);
  });

  it('byService without a route: UNIMPLEMENTED naming the method', async () => {
    await startProxy(byService({ 'acme.*': createBackend(backend.address) }));
    const outcome = await callEcho(client, echoRequest());
    expect(outcome.status.code).toBe(status.UNIMPLEMENTED);
    expect(outcome.status.details).toBe(
      'no route for method /grpc_proxy.testing.v1.EchoService/Echo',
    );
  });

  it('a closed director: UNAVAILABLE saying so', async () => {
    await startProxy(byService({ '*': createBackend(backend.address) }));
    director.close();
    const outcome = await callEcho(client, echoRequest());
    expect(outcome.status.code).toBe(status.UNAVAILABLE);
    expect(outcome.status.details).toBe('byService is closed');
  });
});
