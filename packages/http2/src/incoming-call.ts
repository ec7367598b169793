import type { Http2Session, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { Metadata, type Deadline } from '@grpc/grpc-js';
import type { ProxyCall } from '@grpc-proxy/handler';
import {
  ProxyCallBase,
  filterIncomingMetadata,
  type CompiledMetadataPolicy,
} from '@grpc-proxy/handler/engine';

const PEER = Symbol('peer');

type PeeredSession = Http2Session & { [PEER]?: string };

/**
 * The client's address as grpc-js's server reports it (`host:port`, `unknown` on a unix socket),
 * found once per connection: `session.socket` is a `Proxy`, slow to read on every call.
 */
function peerOf(stream: ServerHttp2Stream): string {
  const session = stream.session as PeeredSession | undefined;
  if (session === undefined) return 'unknown';
  const known = session[PEER];
  if (known !== undefined) return known;
  // A connection torn down already has no socket left: 'unknown', and not kept.
  if (session.destroyed) return 'unknown';
  const socket = session.socket;
  const address = socket.remoteAddress;
  const port = socket.remotePort;
  let peer = 'unknown';
  if (address) peer = port === undefined ? address : `${address}:${port}`;
  session[PEER] = peer;
  return peer;
}

/** Reads the first message for a director that asks (the proxied call, see ./peek.ts). */
export interface FirstMessageReader {
  readFirstMessage(): Promise<Buffer | null>;
}

/**
 * The `ProxyCall` a director sees, read from the request headers. The metadata and the deadline
 * as a `Date` (like the service name and the signal, see the base) are made only when the director
 * asks for them, so a director that routes by method alone costs no `Metadata` and no base64
 * decoding.
 */
export class Http2IncomingCall extends ProxyCallBase implements ProxyCall {
  readonly method: string;
  readonly authority: string;
  readonly peer: string;
  private metadataCopy: Metadata | undefined = undefined;
  private deadlineDate: Date | undefined = undefined;
  /** The proxied call of this one, set as it is made: it reads the first message (peek). */
  reader: FirstMessageReader | undefined = undefined;

  constructor(
    stream: ServerHttp2Stream,
    readonly headers: IncomingHttpHeaders,
    private readonly policy: CompiledMetadataPolicy,
    /** Epoch milliseconds, `Infinity` without `grpc-timeout`. */
    readonly deadlineMs: number,
  ) {
    super();
    this.method = headers[':path'] ?? '';
    this.authority = headers[':authority'] ?? '';
    this.peer = peerOf(stream);
  }

  /** Whether the director read (and so may have changed) {@link metadata}. */
  get metadataTouched(): boolean {
    return this.metadataCopy !== undefined;
  }

  get metadata(): Metadata {
    this.metadataCopy ??= filterIncomingMetadata(
      Metadata.fromHttp2Headers(this.headers),
      this.policy,
    );
    return this.metadataCopy;
  }

  /** Peek: the proxied call reads the first message (./peek.ts). */
  protected override peekFirstMessage(): Promise<Buffer | null> {
    return this.reader?.readFirstMessage() ?? super.peekFirstMessage();
  }

  get deadline(): Deadline {
    if (this.deadlineMs === Infinity) return Infinity;
    this.deadlineDate ??= new Date(this.deadlineMs);
    return this.deadlineDate;
  }
}
