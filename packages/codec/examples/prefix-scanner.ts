import { encodeMessage, PrefixScanner, ScanResult, type MessageCounter } from '@grpc-proxy/codec';

/** Passes a message stream on untouched while checking its limit and counting its messages. */
export function prefixScannerExample(): string[] {
  const sizes: number[] = [];
  const counter: MessageCounter = { count: (bytes) => sizes.push(bytes) };
  const scanner = new PrefixScanner(8, counter); // payloads of at most 8 bytes; no default limit

  const stream = Buffer.concat([
    encodeMessage(Buffer.from('short')),
    encodeMessage(Buffer.alloc(0)),
  ]);
  const forwarded: Buffer[] = [];
  for (const chunk of [stream.subarray(0, 3), stream.subarray(3, 12), stream.subarray(12)]) {
    if (scanner.scan(chunk) !== ScanResult.OK) break;
    forwarded.push(chunk); // the chunk itself: the scanner keeps and copies nothing
  }
  const lines = [`forwarded ${forwarded.length} chunks, messages of ${sizes.join(' and ')} bytes`];

  const cut = scanner.scan(encodeMessage(Buffer.from('way too long')).subarray(0, 7));
  lines.push(`${ScanResult[cut]}: ${scanner.tooLong} bytes announced, limit ${scanner.limit}`);

  const truncated = new PrefixScanner(Infinity);
  truncated.scan(Buffer.from([0, 0, 0, 0, 9, 1, 2])); // announces 9 bytes, sends 2
  lines.push(`ended mid-message: ${truncated.midMessage}`);
  return lines;
  // [ 'forwarded 3 chunks, messages of 5 and 0 bytes',
  //   'TOO_LARGE: 12 bytes announced, limit 8',
  //   'ended mid-message: true' ]
}

if (require.main === module) console.log(prefixScannerExample().join('\n'));
