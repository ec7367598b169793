import { createServer, type Server } from 'node:net';

/**
 * Stands in for a dead backend on its port, to count the proxy's probes: a TCP listener that
 * accepts each connection and destroys it at once (before any HTTP/2 byte), so every attempt the
 * proxy makes to reach the target fails, and is counted with its time.
 */
export class DeadPort {
  /** `performance.now()` of each accepted connection, in order. */
  readonly connections: number[] = [];

  private constructor(private readonly server: Server) {}

  /** Listens on 127.0.0.1:`port` (the dead backend's port). */
  static async listen(port: number): Promise<DeadPort> {
    const server = createServer();
    const dead = new DeadPort(server);
    server.on('connection', (socket) => {
      dead.connections.push(performance.now());
      socket.on('error', () => undefined);
      socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return dead;
  }

  /** Connections accepted in [`from`, `to`) (`performance.now()` times). */
  countBetween(from: number, to: number): number {
    return this.connections.filter((at) => at >= from && at < to).length;
  }

  /** Stops listening. */
  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
