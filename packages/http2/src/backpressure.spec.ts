/**
 * Backpressure end to end through the http2 engine: a reader that stops reading stops the writer
 * on the other side after a bounded number of messages (HTTP/2 windows and stream buffers, no
 * queue of the proxy's own), and everything arrives once it reads again.
 */
import { once } from 'node:events';
import {
  Client,
  Server,
  ServerCredentials,
  credentials,
  status,
  type ServerReadableStream,
  type ServerWritableStream,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { startHttp2Proxy, type RunningProxy } from './test-support/proxy';

const TOTAL = 4000;
const SIZE = 1024;
/*
 * Measured through the proxy with 1 KiB messages: 128 (Node 20) to 288 (Node 22) accepted
 * downwards, 1024 upwards (what grpc-js's client and server buffers take without a proxy).
 * Without backpressure the writer would get all TOTAL accepted.
 */
const DOWN_BOUND = 800;
const UP_BOUND = 2000;
const raw = (b: Buffer): Buffer => b;

function message(index: number): Buffer {
  const buffer = Buffer.alloc(SIZE, index % 251);
  buffer.writeUInt32BE(index, 0);
  return buffer;
}

/** Resolves once `count()` has not changed for `quietMs` (the writer is blocked), or it exceeds `limit`. */
async function whenStalled(count: () => number, limit: number, quietMs = 300): Promise<number> {
  let last = -1;
  let since = Date.now();
  for (let i = 0; i < 2000; i++) {
    const now = count();
    if (now > limit) return now;
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return now;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('writer never stalled');
}

describe('backpressure end to end', () => {
  let backend: Server;
  let proxy: RunningProxy;
  let client: Client;
  let written = 0;
  let startReading: () => void = () => undefined;
  const received: number[] = [];

  beforeEach(async () => {
    written = 0;
    received.length = 0;
    backend = new Server();
    backend.register(
      '/flood.Flood/Down',
      async (call: ServerWritableStream<Buffer, Buffer>) => {
        for (let i = 0; i < TOTAL; i++) {
          written++;
          if (!call.write(message(i))) await once(call, 'drain');
        }
        call.end();
      },
      raw,
      raw,
      'serverStream',
    );
    backend.register(
      '/flood.Flood/Up',
      (call: ServerReadableStream<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
        startReading = () => {
          call.on('data', (chunk: Buffer) => received.push(chunk.readUInt32BE(0)));
          call.on('end', () => callback(null, Buffer.from(String(received.length))));
        };
      },
      raw,
      raw,
      'clientStream',
    );
    const port = await new Promise<number>((resolve, reject) =>
      backend.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    proxy = await startHttp2Proxy(() => ({ backend: { target: `127.0.0.1:${port}` } }));
    client = new Client(proxy.address, credentials.createInsecure());
  });

  afterEach(async () => {
    client.close();
    await proxy.close();
    backend.forceShutdown();
  });

  it('stops accepting backend writes after a bounded number while the client does not read', async () => {
    const call = client.makeServerStreamRequest('/flood.Flood/Down', raw, raw, Buffer.alloc(0));
    call.on('error', () => undefined); // the status is asserted below
    const indexes: number[] = [];
    call.on('data', (chunk: Buffer) => indexes.push(chunk.readUInt32BE(0)));
    call.pause();
    const inFlight = await whenStalled(() => written, DOWN_BOUND);
    expect(inFlight).toBeLessThanOrEqual(DOWN_BOUND);
    expect(inFlight).toBeGreaterThan(16);
    call.resume();
    const [finalStatus] = await once(call, 'status');
    expect(finalStatus.code).toBe(status.OK);
    expect(indexes).toEqual(Array.from({ length: TOTAL }, (_, i) => i));
  });

  it('stops accepting client writes after a bounded number while the backend does not read', async () => {
    let accepted = 0;
    let result: Buffer | undefined;
    const call = client.makeClientStreamRequest('/flood.Flood/Up', raw, raw, (error, value) => {
      if (!error) result = value;
    });
    call.on('error', () => undefined);
    const writing = (async () => {
      for (let i = 0; i < TOTAL; i++) {
        accepted++;
        if (!call.write(message(i))) await once(call, 'drain');
      }
      call.end();
    })();
    const inFlight = await whenStalled(() => accepted, UP_BOUND);
    expect(inFlight).toBeLessThanOrEqual(UP_BOUND);
    expect(inFlight).toBeGreaterThan(16);
    startReading();
    await writing;
    const [finalStatus] = await once(call, 'status');
    expect(finalStatus.code).toBe(status.OK);
    expect(result).toEqual(Buffer.from(String(TOTAL)));
    expect(received).toEqual(Array.from({ length: TOTAL }, (_, i) => i));
  });
});
