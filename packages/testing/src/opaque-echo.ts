import { once } from 'node:events';
import type { Server, ServerDuplexStream } from '@grpc/grpc-js';
import type { EchoCallLog } from './call-log';
import { EchoCallRun } from './echo-call-run';
import { EchoRequest, EchoResponse } from './gen/grpc_proxy/testing/v1/echo';

/**
 * A bidi method of every echo server that echoes each request message's bytes as they are,
 * never parsing them: gRPC carries JSON, FlatBuffers and any other bytes as well as protobuf.
 * Its calls are in the call log like the others, each message's bytes as `payload`.
 */
export const OPAQUE_ECHO_METHOD = '/grpc_proxy.testing.v1.OpaqueEcho/Bidi';

const identity = (value: Buffer): Buffer => value;

/** Serves {@link OPAQUE_ECHO_METHOD} on `server`, recording calls in `log`. */
export function addOpaqueEcho(server: Server, serverName: string, log: EchoCallLog): void {
  server.register(
    OPAQUE_ECHO_METHOD,
    (call: ServerDuplexStream<Buffer, Buffer>) => opaqueEcho(call, serverName, log),
    identity,
    identity,
    'bidi',
  );
}

function opaqueEcho(
  call: ServerDuplexStream<Buffer, Buffer>,
  serverName: string,
  log: EchoCallLog,
): void {
  const run = new EchoCallRun(call, log, serverName);
  let chain = Promise.resolve();
  // A write cut short by a cancellation rejects; the call is over then, nothing is left to send.
  const enqueue = (step: () => Promise<void>): void => {
    chain = chain.then(step).catch(() => undefined);
  };
  call.on('data', (bytes: Buffer) => {
    if (run.ended) return;
    run.receive(EchoRequest.fromPartial({ payload: bytes }));
    const index = run.requestCount - 1;
    enqueue(async () => {
      if (run.ended) return;
      run.respond(EchoResponse.fromPartial({ payload: bytes, serverName, index }));
      if (!call.write(bytes)) await once(call, 'drain', { signal: run.signal });
    });
  });
  call.on('end', () => {
    const halfClosed = run.requestStreamEnded();
    enqueue(async () => {
      if (!(await halfClosed) || run.ended) return;
      const status = run.finalStatus();
      run.finish(status);
      call.end(status.metadata);
    });
  });
}
