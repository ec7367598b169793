import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { EchoRequest, type EchoResponse, type EchoServiceClient } from '@grpc-proxy/testing';

/** One unary Echo call; resolves with the response or the error (never rejects). */
export function unaryEcho(
  client: EchoServiceClient,
  knobs: Partial<EchoRequest> = {},
  metadata = new Metadata(),
): Promise<{ response?: EchoResponse; error?: ServiceError }> {
  return new Promise((resolve) => {
    client.echo(EchoRequest.fromPartial(knobs), metadata, (error, response) =>
      resolve(error ? { error } : { response }),
    );
  });
}
