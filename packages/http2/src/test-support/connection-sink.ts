import { EventEmitter } from 'node:events';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { waitFor } from './wait';

/**
 * A TCP server on 127.0.0.1 that accepts each connection and destroys it at once, never speaking
 * HTTP/2: where a backend died, with each connection attempt counted.
 */
export interface ConnectionSink {
  readonly target: string;
  readonly port: number;
  /** When each connection came (epoch ms), oldest first. */
  readonly times: number[];
  /** Resolves once `count` connections came; rejects after `timeoutMs`. */
  connections(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startConnectionSink(port = 0): Promise<ConnectionSink> {
  const times: number[] = [];
  const events = new EventEmitter();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    times.push(Date.now());
    socket.on('error', () => undefined);
    socket.destroy();
    events.emit('connection');
  });
  server.on('connection', (socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as AddressInfo).port;
  return {
    target: `127.0.0.1:${bound}`,
    port: bound,
    times,
    connections: (count, timeoutMs) =>
      waitFor(
        events,
        'connection',
        () => times.length >= count,
        () => `${times.length} connections of ${count}`,
        timeoutMs,
      ),
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
