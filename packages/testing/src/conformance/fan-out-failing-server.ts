/** The `fail` backend of the fan-out cases: an echo service whose every call fails alike. */
import { Metadata, Server } from '@grpc/grpc-js';
import type { ServerErrorResponse, ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { bindLocal } from '../bind-local';
import { EchoServiceService } from '../gen/grpc_proxy/testing/v1/echo';
import type {
  EchoRequest,
  EchoResponse,
  EchoServiceServer,
} from '../gen/grpc_proxy/testing/v1/echo';
import { FAILING_STATUS } from './fan-out-director';
import { CALL_ID_KEY } from './types';

/** A running {@link startFailingServer}. */
export interface FailingServer {
  /** `127.0.0.1:port`. */
  readonly address: string;
  /** The call id ({@link CALL_ID_KEY}) of every call it failed, oldest first. */
  readonly failed: string[];
  /** Stops at once. */
  close(): Promise<void>;
}

/**
 * Starts a grpc-js server of the echo service on 127.0.0.1:0 that ends every call with
 * {@link FAILING_STATUS} (its trailer included), once `ready(metadata)` resolved: the cases use it
 * to fail only after the other backends of the fan-out have the call, so that they see it
 * cancelled rather than never see it.
 */
export async function startFailingServer(
  ready: (metadata: Metadata) => Promise<void>,
): Promise<FailingServer> {
  const failed: string[] = [];
  const failure = (): ServerErrorResponse => {
    const metadata = new Metadata();
    metadata.set(FAILING_STATUS.trailerKey, FAILING_STATUS.trailerValue);
    return Object.assign(new Error(FAILING_STATUS.details), {
      code: FAILING_STATUS.code,
      details: FAILING_STATUS.details,
      metadata,
    });
  };
  const whenReady = (metadata: Metadata, fail: () => void): void => {
    const id = String(metadata.get(CALL_ID_KEY)[0] ?? '');
    // A wait that fails (the case timed out) still ends the call: nothing is left open.
    void ready(metadata)
      .catch(() => undefined)
      .then(() => {
        failed.push(id);
        fail();
      });
  };
  const unary = (
    call: ServerUnaryCall<EchoRequest, EchoResponse> | { metadata: Metadata },
    callback: sendUnaryData<EchoResponse>,
  ) => whenReady(call.metadata, () => callback(failure()));
  const streaming = (call: { metadata: Metadata; emit(event: 'error', error: unknown): void }) =>
    whenReady(call.metadata, () => call.emit('error', failure()));
  const implementation: EchoServiceServer = {
    echo: unary,
    clientStream: unary,
    serverStream: streaming,
    bidi: streaming,
  };
  const server = new Server();
  server.addService(EchoServiceService, implementation);
  const port = await bindLocal(server);
  return {
    address: `127.0.0.1:${port}`,
    failed,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        server.forceShutdown();
      }),
  };
}
