/** Fresh copies of consecutive slices of `bytes`, each `size` long (the last may be shorter). */
export function chunksOf(bytes: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) {
    chunks.push(Buffer.from(bytes.subarray(offset, offset + size)));
  }
  return chunks;
}
