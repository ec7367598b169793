/**
 * `bytes` cut at `offsets`, each taken modulo `bytes.length + 1` (any order, repeats allowed):
 * fresh copies of the pieces, in order, empty pieces included. Feeds a stream parser every
 * chunking of the same bytes, e.g. with fast-check's `fc.array(fc.nat())` as `offsets`.
 */
export function splitAt(bytes: Uint8Array, offsets: readonly number[]): Buffer[] {
  const points = offsets.map((offset) => offset % (bytes.length + 1)).sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    pieces.push(Buffer.from(bytes.subarray(start, point)));
    start = point;
  }
  return pieces;
}

/**
 * The offsets at which a stream of gRPC length-prefixed messages (`wire`) is cut between two
 * messages: 0 and the end of each whole message. A cut anywhere else falls inside a message's
 * 5-byte prefix or its payload.
 */
export function messageBoundaries(wire: Uint8Array): Set<number> {
  const view = Buffer.from(wire.buffer, wire.byteOffset, wire.byteLength);
  const boundaries = new Set<number>([0]);
  for (let offset = 0; offset + 5 <= view.length;) {
    offset += 5 + view.readUInt32BE(offset + 1);
    if (offset > view.length) break;
    boundaries.add(offset);
  }
  return boundaries;
}

/**
 * `wire`, a stream of gRPC length-prefixed messages, cut off after `seed % (wire.length + 1)`
 * bytes: the bytes kept, and whether the cut fell between two messages (see
 * {@link messageBoundaries}) rather than inside one. Any natural number will do as `seed`.
 */
export function cutOff(wire: Uint8Array, seed: number): { head: Buffer; betweenMessages: boolean } {
  const cut = seed % (wire.length + 1);
  return {
    head: Buffer.from(wire.subarray(0, cut)),
    betweenMessages: messageBoundaries(wire).has(cut),
  };
}
