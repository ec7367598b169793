import { status } from '@grpc/grpc-js';
import { ScanResult, type PrefixScanner } from '@grpc-proxy/codec';

/**
 * The status (without the proxy's prefix) of a stream whose prefix scan failed: `RESOURCE_EXHAUSTED`
 * naming the size and the limit's option, or `INTERNAL` for reserved flag bits. One wording for
 * the forwarding and the peek (./peek.ts).
 */
export function scanFailure(
  result: ScanResult,
  scanner: PrefixScanner,
  from: string,
  option: string,
): { code: status; details: string } {
  return result === ScanResult.TOO_LARGE
    ? {
        code: status.RESOURCE_EXHAUSTED,
        details: `message from ${from} is ${scanner.tooLong} bytes, more than ${option} (${scanner.limit})`,
      }
    : { code: status.INTERNAL, details: `message from ${from} has reserved flag bits set` };
}
