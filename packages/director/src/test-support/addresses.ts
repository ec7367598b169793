import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

/** An address nobody listens on: a port bound then closed (its close awaited). */
export async function unusedAddress(): Promise<string> {
  const listener = createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as AddressInfo;
  await new Promise((resolve) => listener.close(resolve));
  return `127.0.0.1:${port}`;
}
