/**
 * A mirror backend that never reads: a bare `node:http2` server announcing a stream window of 0
 * (`SETTINGS_INITIAL_WINDOW_SIZE`), so the proxy may send no DATA on a copy's stream, and that
 * never answers. Every byte a copy is given stays at the proxy until the proxy gives up on it —
 * what the mirror's memory bound is measured against. It runs in the test process: its own
 * memory is not the proxy's.
 */
import { createServer, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';

/** The stuck mirror: its address and the streams (copies) it was opened. */
export interface StuckMirror {
  readonly address: string;
  /** Copies whose HEADERS reached the mirror. */
  readonly streams: ServerHttp2Stream[];
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

/** Starts a {@link StuckMirror} on 127.0.0.1:0. */
export async function startStuckMirror(): Promise<StuckMirror> {
  const server = createServer({ settings: { initialWindowSize: 0 } });
  const sessions = new Set<Http2Session>();
  const streams: ServerHttp2Stream[] = [];
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    session.on('error', () => undefined);
  });
  server.on('stream', (stream) => {
    streams.push(stream);
    stream.on('error', () => undefined); // the proxy resets each copy (CANCEL)
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    streams,
    close: () =>
      new Promise<void>((resolve) => {
        for (const session of sessions) session.destroy();
        server.close(() => resolve());
      }),
  };
}

/** One sample of the Prometheus text format: the value of `name` with every label of `where`. */
export function metricValue(text: string, name: string, where: Record<string, string>): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const labels = new Map(
      [...(match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [
        m[1],
        m[2],
      ]),
    );
    if (Object.entries(where).every(([key, value]) => labels.get(key) === value)) {
      total += Number(match[3]);
    }
  }
  return total;
}
