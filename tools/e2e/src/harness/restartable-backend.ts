import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { probeService } from './probe-service';

/**
 * A grpc-js server of the probe service's `Unary` method (it echoes the request; the other
 * methods answer UNIMPLEMENTED) in the test's own process, so that a case can restart it the way
 * an operator's rolling restart does (graceful `tryShutdown`, then a new server on the same
 * port) in milliseconds, and see when it serves again.
 */
export class RestartableBackend {
  /** `Unary` calls served so far, by every server generation. */
  unaryRuns = 0;
  private server: Server | undefined;

  private constructor(private boundPort: number) {}

  /** Starts a backend on 127.0.0.1:`port` (default 0: any free port). */
  static async start(port = 0): Promise<RestartableBackend> {
    const backend = new RestartableBackend(port);
    await backend.listen();
    return backend;
  }

  /** `127.0.0.1:<port>` (the same across restarts). */
  get address(): string {
    return `127.0.0.1:${this.boundPort}`;
  }

  /**
   * A graceful restart: `tryShutdown` (listener closed, GOAWAY to every connection, running calls
   * finish), and once every connection is closed, a new server on the same port.
   */
  async restart(): Promise<void> {
    const server = this.server;
    if (server === undefined) throw new Error(`backend ${this.address} is not running`);
    this.server = undefined;
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    await this.listen();
  }

  /** Stops it at once (cleanup; a no-op when it is down). */
  close(): void {
    this.server?.forceShutdown();
    this.server = undefined;
  }

  private async listen(): Promise<void> {
    const server = new Server();
    server.addService(probeService, {
      Unary: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
        this.unaryRuns++;
        callback(null, call.request);
      },
    });
    this.boundPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync(this.address, ServerCredentials.createInsecure(), (error, port) =>
        error ? reject(error) : resolve(port),
      ),
    );
    this.server = server;
  }
}
