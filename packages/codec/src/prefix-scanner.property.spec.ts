import fc from 'fast-check';
import { cutOff, splitAt } from '@grpc-proxy/testing';
import { MessageDecoder } from './message-decoder';
import { PrefixScanner, ScanResult, type MessageCounter } from './prefix-scanner';
import { cuts, encodeAll, messages, someMessages } from './test-support/framing-arbitraries';

class Lengths implements MessageCounter {
  readonly seen: number[] = [];
  count(bytes: number): void {
    this.seen.push(bytes);
  }
}

/** Scans every chunk; returns the first result that is not OK (or OK). */
function scanAll(scanner: PrefixScanner, chunks: Buffer[]): ScanResult {
  for (const chunk of chunks) {
    const result = scanner.scan(chunk);
    if (result !== ScanResult.OK) return result;
  }
  return ScanResult.OK;
}

describe('PrefixScanner properties', () => {
  it('counts every message with its length, as the codec decodes them, under any chunking', () => {
    fc.assert(
      fc.property(messages, cuts, (list, offsets) => {
        const wire = encodeAll(list);
        const lengths = new Lengths();
        const scanner = new PrefixScanner(Infinity, lengths);
        expect(scanAll(scanner, splitAt(wire, offsets))).toBe(ScanResult.OK);
        expect(scanner.midMessage).toBe(false);
        const decoded = new MessageDecoder().push(wire);
        expect(lengths.seen).toEqual(decoded.map((m) => m.payload.length));
      }),
      { numRuns: 300 },
    );
  });

  it('is mid-message exactly when the stream is cut off inside a prefix or a payload', () => {
    fc.assert(
      fc.property(someMessages, fc.nat(), cuts, (list, seed, offsets) => {
        const { head, betweenMessages } = cutOff(encodeAll(list), seed);
        const scanner = new PrefixScanner(Infinity);
        expect(scanAll(scanner, splitAt(head, offsets))).toBe(ScanResult.OK);
        expect(scanner.midMessage).toBe(!betweenMessages);
      }),
      { numRuns: 300 },
    );
  });

  it('stops at the first message over the limit, before any of its payload, naming its length', () => {
    fc.assert(
      fc.property(messages, fc.nat({ max: 300 }), cuts, (list, limit, offsets) => {
        const lengths = new Lengths();
        const scanner = new PrefixScanner(limit, lengths);
        const result = scanAll(scanner, splitAt(encodeAll(list), offsets));
        const firstTooLong = list.findIndex((m) => m.payload.length > limit);
        if (firstTooLong === -1) {
          expect(result).toBe(ScanResult.OK);
          expect(lengths.seen).toHaveLength(list.length);
        } else {
          expect(result).toBe(ScanResult.TOO_LARGE);
          expect(scanner.tooLong).toBe(list[firstTooLong].payload.length);
          expect(lengths.seen).toEqual(list.slice(0, firstTooLong).map((m) => m.payload.length));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('fails on a flags byte with reserved bits, wherever the chunk boundaries fall', () => {
    fc.assert(
      fc.property(messages, fc.integer({ min: 2, max: 255 }), cuts, (list, flags, offsets) => {
        const wire = Buffer.concat([encodeAll(list), Buffer.from([flags, 0, 0, 0, 1, 7])]);
        expect(scanAll(new PrefixScanner(Infinity), splitAt(wire, offsets))).toBe(
          ScanResult.BAD_FLAGS,
        );
      }),
      { numRuns: 200 },
    );
  });

  it('reads lengths up to the wire maximum (4 GiB - 1) without 32-bit overflow', () => {
    const scanner = new PrefixScanner(Infinity);
    expect(scanner.scan(Buffer.from([0, 0xff, 0xff, 0xff, 0xff]))).toBe(ScanResult.OK);
    const limited = new PrefixScanner(0xffff_fffe);
    expect(limited.scan(Buffer.from([1, 0xff, 0xff, 0xff, 0xff]))).toBe(ScanResult.TOO_LARGE);
    expect(limited.tooLong).toBe(0xffff_ffff);
  });
});
