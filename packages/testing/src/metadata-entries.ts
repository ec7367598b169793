import { Metadata } from '@grpc/grpc-js';
import { MetadataEntry } from './gen/grpc_proxy/testing/v1/echo';

/** A metadata key whose values are bytes (`-bin` suffix), as gRPC defines it. */
function isBinaryKey(key: string): boolean {
  return key.endsWith('-bin');
}

/**
 * Builds grpc-js `Metadata` from entries, adding every entry in order so that repeated keys
 * keep every value. `-bin` keys take `binaryValue`; other keys take `value`.
 */
export function metadataFromEntries(entries: readonly MetadataEntry[]): Metadata {
  const metadata = new Metadata();
  for (const entry of entries) {
    metadata.add(entry.key, isBinaryKey(entry.key) ? entry.binaryValue : entry.value);
  }
  return metadata;
}

/** Lists every value of every key of `metadata`, in order, as entries (duplicates included). */
export function entriesFromMetadata(metadata: Metadata): MetadataEntry[] {
  const entries: MetadataEntry[] = [];
  for (const [key, values] of Object.entries(metadata.toJSON())) {
    for (const value of values) {
      entries.push(
        MetadataEntry.fromPartial(
          Buffer.isBuffer(value) ? { key, binaryValue: value } : { key, value: String(value) },
        ),
      );
    }
  }
  return entries;
}

/** Builds entries from `[key, value]` pairs; a `Buffer` value becomes `binaryValue`. */
export function entriesFromPairs(
  pairs: ReadonlyArray<readonly [string, string | Buffer]>,
): MetadataEntry[] {
  return pairs.map(([key, value]) =>
    MetadataEntry.fromPartial(
      typeof value === 'string' ? { key, value } : { key, binaryValue: value },
    ),
  );
}
