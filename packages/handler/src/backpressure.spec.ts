import { once } from 'node:events';
import {
  status,
  type Server,
  type ServerReadableStream,
  type ServerWritableStream,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { eventually, raw, startServer } from './test-support/grpc-fixtures';
import { useHarness } from './test-support/harness';

const TOTAL = 8000;
const SIZE = 1024;
/*
 * The most messages that may be accepted while the other end does not read. Measured without a
 * proxy on grpc-js 1.14 / Node 20 with 1 KiB messages: a server writing to a client that does not
 * read gets 64 accepted (one HTTP/2 window); a client writing to a server that does not read gets
 * 1024 accepted (grpc-js and Node's buffers on both ends). Through the proxy, one more hop of
 * windows and 16-message stream buffers is added, and nothing more. Without end-to-end
 * backpressure the writer would get all TOTAL messages accepted.
 */
const DOWN_BOUND = 400;
const UP_BOUND = 2600;

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
  let written = 0;
  let startReading: () => void = () => undefined;
  const received: number[] = [];

  function setup(server: Server): void {
    server.register(
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
    server.register(
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
  }

  const h = useHarness({ startBackend: () => startServer(setup) });

  beforeEach(() => {
    written = 0;
    received.length = 0;
  });

  it('stops accepting backend writes after a bounded number while the client does not read', async () => {
    const call = h.client.makeServerStreamRequest('/flood.Flood/Down', raw, raw, Buffer.alloc(0));
    call.on('error', () => undefined); // the status is asserted below
    // Read, then stop reading: grpc-js's own client only bounds its buffer once reading started.
    const indexes: number[] = [];
    call.on('data', (chunk: Buffer) => indexes.push(chunk.readUInt32BE(0)));
    call.pause();
    const inFlight = await whenStalled(() => written, DOWN_BOUND);
    expect(inFlight).toBeLessThanOrEqual(DOWN_BOUND);
    expect(inFlight).toBeGreaterThan(16); // the backend did start writing
    call.resume();
    const [finalStatus] = await once(call, 'status');
    expect(finalStatus.code).toBe(status.OK);
    expect(indexes).toEqual(Array.from({ length: TOTAL }, (_, i) => i));
  });

  it('stops accepting client writes after a bounded number while the backend does not read', async () => {
    let accepted = 0;
    let result: Buffer | undefined;
    const call = h.client.makeClientStreamRequest(
      '/flood.Flood/Up',
      raw,
      raw,
      (error, value?: Buffer) => {
        if (!error) result = value;
      },
    );
    call.on('error', () => undefined);
    const writing = (async () => {
      for (let i = 0; i < TOTAL; i++) {
        accepted++;
        if (!call.write(message(i))) await once(call, 'drain');
      }
      call.end();
    })();
    await eventually(() => accepted > 0, 'client started writing');
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
