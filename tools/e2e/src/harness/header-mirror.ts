import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { encodeMessage } from '@grpc-proxy/codec';

/**
 * A minimal gRPC backend on bare `node:http2` that records the request headers exactly as they
 * arrived on the wire (grpc-js servers hide some of them) and answers every call with OK and one
 * message: those headers as JSON. It shows what a proxy really forwards.
 */
export class HeaderMirror {
  /** Request headers of every call, in arrival order (pseudo-headers included). */
  readonly requests: http2.IncomingHttpHeaders[] = [];
  private readonly server = http2.createServer();
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private port = 0;

  private constructor() {
    this.server.on('session', (session) => {
      this.sessions.add(session);
      session.on('close', () => this.sessions.delete(session));
    });
    this.server.on('stream', (stream, headers) => this.answer(stream, headers));
  }

  /** Starts a mirror on 127.0.0.1, any free port. */
  static async start(): Promise<HeaderMirror> {
    const mirror = new HeaderMirror();
    await new Promise<void>((resolve, reject) => {
      mirror.server.once('error', reject);
      mirror.server.listen(0, '127.0.0.1', () => resolve());
    });
    mirror.port = (mirror.server.address() as AddressInfo).port;
    return mirror;
  }

  /** `127.0.0.1:<port>`. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  private answer(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    this.requests.push({ ...headers });
    stream.on('error', () => undefined);
    // Read the request to its end, then answer: headers, one message, OK trailers.
    stream.resume();
    stream.on('end', () => {
      if (stream.destroyed) return;
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc' },
        { waitForTrailers: true },
      );
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(encodeMessage(Buffer.from(JSON.stringify(headers))));
    });
  }

  /** Stops the server and drops its connections (the proxy's backend channel among them). */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const session of this.sessions) session.destroy();
    });
  }
}
