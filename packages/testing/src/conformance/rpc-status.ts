/**
 * Hand-encoded `google.rpc.Status` details (the kit has no generated code for googleapis): what a
 * backend puts in `grpc-status-details-bin` with rich error details.
 */
import { BinaryWriter } from '@bufbuild/protobuf/wire';

/** A `google.protobuf.Any`: a type URL and the message's bytes. */
interface Any {
  typeUrl: string;
  value: Uint8Array;
}

function any(writer: BinaryWriter, field: number, { typeUrl, value }: Any): void {
  writer.uint32((field << 3) | 2).fork();
  writer.uint32(10).string(typeUrl);
  writer.uint32(18).bytes(value);
  writer.join();
}

/** `google.rpc.ErrorInfo` bytes: reason (1), domain (2), metadata (3, a string map). */
function errorInfo(reason: string, domain: string, metadata: Record<string, string>): Uint8Array {
  const writer = new BinaryWriter();
  writer.uint32(10).string(reason);
  writer.uint32(18).string(domain);
  for (const [key, value] of Object.entries(metadata)) {
    writer.uint32(26).fork().uint32(10).string(key).uint32(18).string(value).join();
  }
  return writer.finish();
}

/** `google.rpc.LocalizedMessage` bytes: locale (1), message (2). */
function localizedMessage(locale: string, message: string): Uint8Array {
  return new BinaryWriter().uint32(10).string(locale).uint32(18).string(message).finish();
}

/** `google.rpc.Status` bytes: code (1), message (2), details (3, repeated Any). */
export function rpcStatus(code: number, message: string, details: readonly Any[]): Buffer {
  const writer = new BinaryWriter();
  writer.uint32(8).int32(code);
  writer.uint32(18).string(message);
  for (const detail of details) any(writer, 3, detail);
  return Buffer.from(writer.finish());
}

/**
 * Well-formed details of an INVALID_ARGUMENT error, whose own message differs from the status
 * message (`grpc-message`) on purpose: a proxy that rebuilds the details from the status it saw
 * loses it. Two details (an ErrorInfo and a LocalizedMessage), so dropping all but one shows.
 */
export function wellFormedDetails(code: number): Buffer {
  return rpcStatus(code, 'the details carry their own message, not grpc-message', [
    {
      typeUrl: 'type.googleapis.com/google.rpc.ErrorInfo',
      value: errorInfo('CONFORMANCE_CHECK', 'testing.grpc-proxy.dev', { case: 'status_details' }),
    },
    {
      typeUrl: 'type.googleapis.com/google.rpc.LocalizedMessage',
      value: localizedMessage('fr-FR', 'Détails présents ☺'),
    },
  ]);
}

/**
 * Details bytes that are not a valid `google.rpc.Status`: field 2 (the message, a string) holds
 * invalid UTF-8. gRPC treats the trailer as opaque bytes; a proxy that decodes it fails here.
 */
export const MALFORMED_DETAILS = Buffer.from([0x08, 0x03, 0x12, 0x04, 0x00, 0xff, 0x7f, 0x80]);
