/**
 * Backend names through the proxy, with the default lookup (the OS resolver): every form of a
 * name target reaches the backend, resolved once with `dns.promises.lookup(name, { all: true })`,
 * the name (not the address) as `:authority`. `localhost` resolves to 127.0.0.1 here (and maybe
 * ::1, where nothing listens: a failed attempt on one address, retried on the other).
 */
import { promises as dns } from 'node:dns';
import { Client, credentials, status } from '@grpc/grpc-js';
import { callRawUnary } from '@grpc-proxy/testing';
import { startAddressServer, type AddressServer } from './test-support/address-servers';
import { startHttp2Proxy, type RunningProxy } from './test-support/proxy';

const METHOD = '/acme.v1.Svc/Do';

describe('backend names through the proxy', () => {
  let backend: AddressServer;
  let proxy: RunningProxy | undefined;
  let client: Client | undefined;

  beforeEach(async () => {
    backend = await startAddressServer('backend', '127.0.0.1');
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    client?.close();
    await proxy?.close();
    await backend.close();
    client = proxy = undefined;
  });

  it('resolves each form of a name with the OS resolver, once, and keeps the name as :authority', async () => {
    const lookup = jest.spyOn(dns, 'lookup');
    const port = backend.port;
    const targets = [`dns:localhost:${port}`, `dns:///localhost:${port}`, `localhost:${port}`];
    let turn = 0;
    proxy = await startHttp2Proxy(() => ({
      backend: { name: 'named', target: targets[turn++ % targets.length] },
    }));
    client = new Client(proxy.address, credentials.createInsecure());
    const answers: string[] = [];
    for (let call = 0; call < 6; call++) {
      const outcome = await callRawUnary(client, METHOD, Buffer.from('x'));
      expect(outcome.status.code).toBe(status.OK);
      answers.push(outcome.responses[0].toString());
    }
    expect(answers).toEqual(Array(6).fill(`127.0.0.1 localhost:${port}`));
    expect(lookup.mock.calls).toEqual(Array(3).fill(['localhost', { all: true }]));
  });
});
