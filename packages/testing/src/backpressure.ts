import { once } from 'node:events';
import { Client, Server, credentials, status } from '@grpc/grpc-js';
import type {
  ServerReadableStream,
  ServerWritableStream,
  StatusObject,
  sendUnaryData,
} from '@grpc/grpc-js';
import { bindLocal } from './bind-local';
import { expectEqual, expectStatus, fail } from './conformance/check';
import type { StartedProxy } from './conformance/describe-proxy-conformance';
import { testGlobals } from './jest-globals';

/** Options of {@link describeBackpressure}. */
export interface BackpressureOptions {
  /** Starts the proxy under test, forwarding every call to `backendAddress`. */
  startProxy(backendAddress: string): StartedProxy | Promise<StartedProxy>;
  /** The most backend writes the proxy may let through while the client does not read. */
  downBound: number;
  /** The most client writes the proxy may let through while the backend does not read. */
  upBound: number;
  /** Messages written each way, 1 KiB each; more than either bound. Default: 4000. */
  total?: number;
}

const SIZE = 1024;
/** Fewer writes accepted than this means the writer never really started. */
const STARTED = 16;
const raw = (bytes: Buffer): Buffer => bytes;

/** Message `index`: 1 KiB, the index in its first four bytes. */
function message(index: number): Buffer {
  const buffer = Buffer.alloc(SIZE, index % 251);
  buffer.writeUInt32BE(index, 0);
  return buffer;
}

const indexOf = (chunk: Buffer): number => chunk.readUInt32BE(0);
const range = (total: number): number[] => Array.from({ length: total }, (_, i) => i);

/** A raw backend: `Down` writes `total` messages as fast as allowed; `Up` reads only when told. */
interface FloodBackend {
  readonly address: string;
  /** Writes `Down` has had accepted so far. */
  readonly written: { count: number };
  /** Indexes `Up` has read, in order. */
  readonly received: number[];
  /** Makes the open `Up` call read, and answer with the count once the client half-closes. */
  startReading(): void;
  close(): void;
}

async function startFloodBackend(total: number): Promise<FloodBackend> {
  const server = new Server();
  const written = { count: 0 };
  const received: number[] = [];
  let startReading = (): void => fail('the Up call never reached the backend');
  server.register(
    '/flood.Flood/Down',
    async (call: ServerWritableStream<Buffer, Buffer>) => {
      for (let i = 0; i < total; i++) {
        written.count++;
        if (!call.write(message(i))) await once(call, 'drain');
      }
      call.end();
    },
    raw,
    raw,
    'serverStream',
  );
  server.register(
    '/flood.Flood/Up',
    (call: ServerReadableStream<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      startReading = () => {
        call.on('data', (chunk: Buffer) => received.push(indexOf(chunk)));
        call.on('end', () => callback(null, Buffer.from(String(received.length))));
      };
    },
    raw,
    raw,
    'clientStream',
  );
  const port = await bindLocal(server);
  return {
    address: `127.0.0.1:${port}`,
    written,
    received,
    startReading: () => startReading(),
    close: () => server.forceShutdown(),
  };
}

/**
 * Resolves once `count()` is above 0 and has not changed for `quietMs` (the writer is blocked),
 * or as soon as it exceeds `limit`.
 */
async function whenStalled(count: () => number, limit: number, quietMs = 300): Promise<number> {
  let last = 0;
  let since = Date.now();
  for (let i = 0; i < 4000; i++) {
    const now = count();
    if (now > limit) return now;
    if (now !== last || now === 0) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return now;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return fail('the writer never stalled');
}

function expectBounded(what: string, accepted: number, bound: number): void {
  if (accepted > bound) fail(`${what}: expected at most ${bound}, got ${accepted}`);
  if (accepted <= STARTED) fail(`${what}: expected more than ${STARTED}, got ${accepted}`);
}

async function checkDown(
  client: Client,
  flood: FloodBackend,
  bound: number,
  total: number,
): Promise<void> {
  const call = client.makeServerStreamRequest('/flood.Flood/Down', raw, raw, Buffer.alloc(0));
  call.on('error', () => undefined); // the status is checked below
  const ended = once(call, 'status') as Promise<[StatusObject]>;
  // Read, then stop reading: grpc-js's own client only bounds its buffer once reading started.
  const indexes: number[] = [];
  call.on('data', (chunk: Buffer) => indexes.push(indexOf(chunk)));
  call.pause();
  const accepted = await whenStalled(() => flood.written.count, bound);
  expectBounded('backend writes accepted while the client did not read', accepted, bound);
  call.resume();
  expectStatus('the call', (await ended)[0], status.OK);
  expectEqual('indexes the client read', indexes, range(total));
}

async function checkUp(
  client: Client,
  flood: FloodBackend,
  bound: number,
  total: number,
): Promise<void> {
  let accepted = 0;
  let result: Buffer | undefined;
  const call = client.makeClientStreamRequest('/flood.Flood/Up', raw, raw, (error, value) => {
    if (!error) result = value;
  });
  call.on('error', () => undefined); // the status is checked below
  const ended = once(call, 'status') as Promise<[StatusObject]>;
  const writing = (async () => {
    for (let i = 0; i < total; i++) {
      accepted++;
      if (!call.write(message(i))) await once(call, 'drain');
    }
    call.end();
  })();
  const inFlight = await whenStalled(() => accepted, bound);
  expectBounded('client writes accepted while the backend did not read', inFlight, bound);
  flood.startReading();
  await writing;
  expectStatus('the call', (await ended)[0], status.OK);
  expectEqual('the answer (messages the backend read)', result, Buffer.from(String(total)));
  expectEqual('indexes the backend read', flood.received, range(total));
}

/**
 * Declares a jest `describe` block named `name` that checks backpressure end to end through the
 * proxy `options.startProxy` starts (a fresh one per test, in front of a fresh raw backend):
 * while one end does not read, the writer at the other end gets at most the bound of writes
 * accepted (more than 16, so it did write), and once reading resumes every message arrives, in
 * order, and the call ends OK. Without backpressure the writer would get all `total` accepted.
 * The proxy must forward any method (`/flood.Flood/Down`, a server stream, and
 * `/flood.Flood/Up`, a client stream).
 *
 * @example
 * describeBackpressure('my proxy', {
 *   startProxy: (backendAddress) => startMyProxy(backendAddress),
 *   downBound: 800, // measure your proxy's buffering, and leave room
 *   upBound: 2000,
 * });
 */
export function describeBackpressure(name: string, options: BackpressureOptions): void {
  const { describe, it, beforeEach, afterEach } = testGlobals(
    'describeBackpressure',
    ['describe', 'it', 'beforeEach', 'afterEach'],
    'call it at the top level of a test file',
  );
  const total = options.total ?? 4000;
  describe(name, () => {
    let flood: FloodBackend | undefined;
    let proxy: StartedProxy | undefined;
    let client: Client | undefined;
    const started = (): [Client, FloodBackend] =>
      client && flood ? [client, flood] : fail('the backend or the proxy did not start');

    beforeEach(async () => {
      flood = await startFloodBackend(total);
      proxy = await options.startProxy(flood.address);
      client = new Client(proxy.address, credentials.createInsecure());
    });

    afterEach(async () => {
      client?.close();
      await proxy?.close();
      flood?.close();
      [client, proxy, flood] = [undefined, undefined, undefined];
    });

    it('stops accepting backend writes after a bounded number while the client does not read', () =>
      checkDown(...started(), options.downBound, total));

    it('stops accepting client writes after a bounded number while the backend does not read', () =>
      checkUp(...started(), options.upBound, total));
  });
}
