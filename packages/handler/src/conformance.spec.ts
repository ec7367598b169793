/**
 * The test kit's full conformance suite, through both ways of wiring the handler:
 * `createProxyServer` (every method via `serveUnknownServices`), and `registerService` for the
 * echo service's methods (with unknown methods falling back to `serveUnknownServices`, since the
 * `unimplemented_*` cases need them answered by the backend).
 */
import { Server, type Client } from '@grpc/grpc-js';
import {
  ECHO_SERVICE_NAME,
  EchoServiceService,
  describeProxyConformance,
} from '@grpc-proxy/testing';
import { createBackendClient } from './backend-client';
import type { StreamDirector } from './contracts';
import { registerService } from './handler';
import { proxyServerOptions } from './server';
import { bindLocal } from './test-support/grpc-fixtures';
import { startProxy } from './test-support/proxy-fixture';
import { serveUnknownServices } from './unknown-services';

function proxyTo(
  backendAddress: string,
  start: (director: StreamDirector) => Promise<{ target: string; close(): Promise<void> }>,
) {
  return async () => {
    const backend: Client = createBackendClient(backendAddress);
    const proxy = await start(() => ({ backend }));
    return {
      address: proxy.target,
      close: async () => {
        backend.close();
        await proxy.close();
      },
    };
  };
}

/**
 * The grpc-js engine's known difference, by design: grpc-js decompresses the messages it receives
 * and the engine forwards them uncompressed, both ways.
 */
const declared = { inflatesCompressedMessages: true };

describeProxyConformance('handler via createProxyServer (serveUnknownServices)', {
  declared,
  startProxy: (backendAddress) => proxyTo(backendAddress, (director) => startProxy(director))(),
});

const echoMethods = Object.values(EchoServiceService).map((method) => method.path.split('/')[2]);
/** Methods each handler of the registerService variant served. */
const servedBy = { registered: new Set<string>(), fallback: new Set<string>() };

describeProxyConformance('handler via registerService', {
  declared,
  startProxy: (backendAddress) =>
    proxyTo(backendAddress, (director) => {
      const server = new Server(proxyServerOptions());
      const tagged =
        (by: keyof typeof servedBy): StreamDirector =>
        (call) => {
          servedBy[by].add(call.method);
          return director(call);
        };
      registerService(server, tagged('registered'), ECHO_SERVICE_NAME, echoMethods);
      serveUnknownServices(server, tagged('fallback'));
      return bindLocal(server);
    })(),
});

// Declared after the suites, so jest runs it after them.
it('served the echo methods through registerService and only unknown ones through the fallback', () => {
  expect(echoMethods).toEqual(['Echo', 'ServerStream', 'ClientStream', 'Bidi']);
  expect([...servedBy.registered].sort()).toEqual(
    echoMethods.map((m) => `/${ECHO_SERVICE_NAME}/${m}`).sort(),
  );
  expect(servedBy.fallback.size).toBeGreaterThan(0);
  for (const method of servedBy.fallback)
    expect(echoMethods.map((m) => `/${ECHO_SERVICE_NAME}/${m}`)).not.toContain(method);
});
