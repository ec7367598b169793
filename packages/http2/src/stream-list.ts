import type { ServerHttp2Stream } from 'node:http2';

const PREVIOUS = Symbol('previous stream');
const NEXT = Symbol('next stream');
const LIST = Symbol('stream list');

type Listed = ServerHttp2Stream & {
  [PREVIOUS]?: Listed | undefined;
  [NEXT]?: Listed | undefined;
  [LIST]?: StreamList | undefined;
};

/**
 * The open streams of one client connection, as a list threaded through the streams rather than
 * a `Set`: each stream goes in and out once, and that then hashes and allocates nothing.
 */
export class StreamList implements Iterable<ServerHttp2Stream> {
  private head: Listed | undefined = undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(stream: ServerHttp2Stream): void {
    const listed = stream as Listed;
    if (listed[LIST] !== undefined) return;
    listed[LIST] = this;
    listed[PREVIOUS] = undefined;
    listed[NEXT] = this.head;
    if (this.head !== undefined) this.head[PREVIOUS] = listed;
    this.head = listed;
    this.count++;
  }

  delete(stream: ServerHttp2Stream): void {
    const listed = stream as Listed;
    if (listed[LIST] !== this) return;
    listed[LIST] = undefined;
    const previous = listed[PREVIOUS];
    const next = listed[NEXT];
    if (previous === undefined) this.head = next;
    else previous[NEXT] = next;
    if (next !== undefined) next[PREVIOUS] = previous;
    listed[PREVIOUS] = listed[NEXT] = undefined;
    this.count--;
  }

  /** Bytes the streams hold for the client (a walk of the list: no iterator object). */
  writableLength(): number {
    let bytes = 0;
    for (let stream = this.head; stream !== undefined; stream = stream[NEXT]) {
      bytes += stream.writableLength;
    }
    return bytes;
  }

  /** The streams, newest first; the one just yielded may be deleted (the next is read first). */
  *[Symbol.iterator](): Iterator<ServerHttp2Stream> {
    for (let stream = this.head; stream !== undefined;) {
      const next: Listed | undefined = stream[NEXT];
      yield stream;
      stream = next;
    }
  }
}
