import { status } from '@grpc/grpc-js';
import { grpcMessageOf, grpcRequestHeaders, grpcStatusOf, probeService } from '../src';
import { HELLO } from './support/messages';
import { ENGINES, useHarness } from './support/use-harness';

// A client sending grpc-status / grpc-message as request headers must neither change the status
// it gets nor make the backend see them.

describe.each(ENGINES)('a client cannot forge the status (%s engine)', (engine) => {
  const h = useHarness({ engine });

  it('grpc-status / grpc-message sent as request metadata change nothing', async () => {
    const backend = await h.backend();
    const proxy = await h.proxy({ backend: backend.address });
    const forged = { 'grpc-status': '7', 'grpc-message': 'forged by the client' };
    const raw = h.h2Session(proxy.address);

    const ok = await raw.request(
      { ...grpcRequestHeaders(probeService.Unary.path), ...forged },
      (stream) => stream.end(HELLO),
    );
    expect([grpcStatusOf(ok), grpcMessageOf(ok), ok.data]).toEqual([status.OK, 'OK', HELLO]);

    const failing = await raw.request(
      {
        ...grpcRequestHeaders(probeService.Unary.path),
        'grpc-status': '0',
        'grpc-message': 'all fine, says the client',
        'x-fail-code': String(status.NOT_FOUND),
        'x-fail-message': 'really not found',
      },
      (stream) => stream.end(HELLO),
    );
    expect([grpcStatusOf(failing), grpcMessageOf(failing)]).toEqual([
      status.NOT_FOUND,
      'really not found',
    ]);
  });

  it('the backend never receives grpc-status / grpc-message request headers', async () => {
    const mirror = await h.mirror();
    const proxy = await h.proxy({ backend: mirror.address });
    const outcome = await h.h2Session(proxy.address).request(
      {
        ...grpcRequestHeaders('/any.Service/Method'),
        'grpc-status': '7',
        'grpc-message': 'forged',
        'x-kept': 'yes',
      },
      (stream) => stream.end(HELLO),
    );
    expect(grpcStatusOf(outcome)).toBe(status.OK);
    expect(mirror.requests).toHaveLength(1);
    expect(mirror.requests[0]['x-kept']).toBe('yes');
    expect(mirror.requests[0]['grpc-status']).toBeUndefined();
    expect(mirror.requests[0]['grpc-message']).toBeUndefined();
  });
});
