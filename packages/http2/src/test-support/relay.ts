import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** A TCP relay on 127.0.0.1:0 to a target, which can go silent like a dead network path. */
export interface Relay {
  readonly target: string;
  /** Stops passing bytes either way; the connections stay open. */
  freeze(): void;
  close(): Promise<void>;
}

export async function startRelay(to: string): Promise<Relay> {
  const separator = to.lastIndexOf(':');
  const host = to.slice(0, separator);
  const port = Number(to.slice(separator + 1));
  const pairs: Array<[Socket, Socket]> = [];
  const server = createServer((down) => {
    const up = connect(port, host);
    for (const socket of [down, up]) socket.on('error', () => undefined);
    down.pipe(up);
    up.pipe(down);
    pairs.push([down, up]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    target: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    freeze: () => {
      for (const [down, up] of pairs) {
        down.unpipe(up);
        up.unpipe(down);
        down.pause();
        up.pause();
      }
    },
    close: () =>
      new Promise((resolve) => {
        for (const pair of pairs) for (const socket of pair) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
