import { Server, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { callRawUnary } from '@grpc-proxy/testing';
import type { StreamDirector } from './contracts';
import { registerService, transparentHandler } from './handler';
import { handlerTableOf, serveUnknownServices } from './unknown-services';
import { raw } from './test-support/grpc-fixtures';
import { useBackend } from './test-support/harness';
import { ECHO, UNKNOWN_METHOD } from './test-support/test-backend';

function localHello(call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): void {
  callback(null, Buffer.concat([Buffer.from('local:'), call.request]));
}

describe('registerService and serveUnknownServices', () => {
  const h = useBackend();
  const directed: string[] = [];
  const directorNamed =
    (name: string): StreamDirector =>
    (call) => {
      directed.push(`${name} ${call.method} ${call.service}`);
      return { backend: h.backendClient };
    };

  beforeEach(() => {
    directed.length = 0;
  });

  it('registerService alone proxies the named methods; others stay UNIMPLEMENTED', async () => {
    const server = new Server();
    registerService(server, directorNamed('registered'), 'test.Echo', ['Unary']);
    const { client } = await h.serve(server);
    const proxied = await callRawUnary(client, `${ECHO}/Unary`, Buffer.from('a'));
    expect([proxied.status.code, proxied.responses]).toEqual([status.OK, [Buffer.from('echo:a')]]);
    const other = await callRawUnary(client, UNKNOWN_METHOD, Buffer.from('a'));
    expect(other.status.code).toBe(status.UNIMPLEMENTED);
    expect(directed).toEqual(['registered /test.Echo/Unary test.Echo']);
  });

  it('registered, unknown and local methods coexist; an unregistered method of a registered service falls back', async () => {
    const server = new Server();
    registerService(server, directorNamed('registered'), 'test.Echo', ['Unary']);
    serveUnknownServices(server, directorNamed('unknown'));
    server.register('/local.Hello/Hi', localHello, raw, raw, 'unary'); // registered after installing
    const { client } = await h.serve(server);

    expect((await callRawUnary(client, `${ECHO}/Unary`, Buffer.from('1'))).responses).toEqual([
      Buffer.from('echo:1'),
    ]);
    expect((await callRawUnary(client, UNKNOWN_METHOD, Buffer.from('2'))).responses).toEqual([
      Buffer.from('echo:2'),
    ]);
    const sibling = await callRawUnary(client, `${ECHO}/TrailersOnly`, Buffer.from('3'));
    expect([sibling.status.code, sibling.status.details]).toEqual([
      status.NOT_FOUND,
      'nothing here',
    ]);
    expect((await callRawUnary(client, '/local.Hello/Hi', Buffer.from('4'))).responses).toEqual([
      Buffer.from('local:4'),
    ]);
    expect(directed).toEqual([
      'registered /test.Echo/Unary test.Echo',
      `unknown ${UNKNOWN_METHOD} never.Registered`,
      'unknown /test.Echo/TrailersOnly test.Echo',
    ]);
  });

  it('refuses to register a method twice, naming it', () => {
    const server = new Server();
    registerService(server, directorNamed('a'), 'test.Echo', ['Unary']);
    expect(() => registerService(server, directorNamed('b'), 'test.Echo', ['Unary'])).toThrow(
      'registerService: /test.Echo/Unary is already registered on this server',
    );
    expect(() => registerService(server, directorNamed('b'), 'bad/name', ['X'])).toThrow(TypeError);
    expect(() => transparentHandler('not a function' as never)).toThrow(TypeError);
    server.forceShutdown();
  });

  it('refuses to install serveUnknownServices twice on one server', () => {
    const server = new Server();
    serveUnknownServices(server, directorNamed('a'));
    expect(() => serveUnknownServices(server, directorNamed('b'))).toThrow(
      'serveUnknownServices is already installed on this server',
    );
    server.forceShutdown();
  });

  // Canary: fails as soon as a grpc-js release changes the internals the hook relies on.
  it('finds the grpc-js handler table it hooks, and leaves no probe behind', () => {
    const server = new Server();
    const table = handlerTableOf(server);
    expect(table).toBeInstanceOf(Map);
    expect(table.size).toBe(0);
    server.forceShutdown();
  });

  it('throws a clear error naming the grpc-js version when the internals differ', () => {
    const server = new Server();
    (server as unknown as { handlers: unknown }).handlers = {};
    expect(() => serveUnknownServices(server, directorNamed('a'))).toThrow(
      /^serveUnknownServices: the internals of @grpc\/grpc-js \d+\.\d+\.\d+ are not as expected \(Server#handlers is not a Map\)/,
    );
    server.forceShutdown();
  });
});
