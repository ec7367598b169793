/** Fresh copies of consecutive slices of `bytes`, each `size` long (the last may be shorter). */
export function chunksOf(bytes: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) {
    chunks.push(Buffer.from(bytes.subarray(offset, offset + size)));
  }
  return chunks;
}

/** Fresh copies of the pieces of `bytes` cut at the given offsets (any order, duplicates allowed). */
export function splitAt(bytes: Buffer, offsets: number[]): Buffer[] {
  const cuts = [...new Set(offsets.map((offset) => Math.min(offset, bytes.length)))].sort(
    (a, b) => a - b,
  );
  const pieces: Buffer[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    pieces.push(Buffer.from(bytes.subarray(start, cut)));
    start = cut;
  }
  return pieces;
}
