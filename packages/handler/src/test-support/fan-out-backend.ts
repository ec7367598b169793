/**
 * A fan-out leg's backend for the fan-out specs: a raw grpc-js server whose `test.Echo` methods
 * (all registered as bidi: on the wire every kind is one) tag what they answer with the backend's
 * `id`, record what reached them (metadata, every message, the half-close, a cancellation), and
 * answer as `mode` says.
 */
import { Metadata, status, type Server, type ServerDuplexStream } from '@grpc/grpc-js';
import { raw, startServer, type RunningServer } from './grpc-fixtures';
import { recordCall, type MirroredCall } from './mirror-backend';
import { ECHO } from './test-backend';

/**
 * `answer`: headers `x-leg: <id>`, then `ServerStream` writes `<id>-<i>` (and `pad` zero bytes)
 * for i < `count` on each request message, as fast as its client takes them; the other methods
 * answer `<id>:<message>` to each message; OK with trailers
 * `x-leg: <id>` after the half-close. `fail`: reads everything, then {@link legFailure} after the
 * half-close (trailers-only); `fail-at-once`: the same failure at once, reading nothing; `hang`:
 * reads everything, never ends; `never-read`: reads nothing (flow control holds the proxy's
 * writes), never ends.
 */
export type LegMode = 'answer' | 'fail' | 'fail-at-once' | 'hang' | 'never-read';

/** What reached a leg backend: as for a mirror. */
export type LegCall = MirroredCall;

export interface LegBackend extends RunningServer {
  readonly id: string;
  mode: LegMode;
  /** Messages `ServerStream` writes per request message. Default: 3. */
  count: number;
  /** Zero bytes after each `ServerStream` message's text. Default: 0. */
  pad: number;
  /** `ServerStream` messages written so far (writes accepted, all calls). */
  written: number;
  readonly calls: LegCall[];
}

/** Metadata of one entry per pair. */
export function metadataOf(...pairs: [string, string][]): Metadata {
  const metadata = new Metadata();
  for (const [key, value] of pairs) metadata.add(key, value);
  return metadata;
}

/** The status a failing leg `id` ends with: `ABORTED`, `leg <id> failed`, its trailers. */
export function legFailure(id: string): { code: status; details: string; metadata: Metadata } {
  return {
    code: status.ABORTED,
    details: `leg ${id} failed`,
    metadata: metadataOf(['x-leg', id], ['x-failed', 'yes']),
  };
}

function handler(backend: LegBackend) {
  return (call: ServerDuplexStream<Buffer, Buffer>): void => {
    const seen = recordCall(call, backend.calls);
    let ended = false;
    call.on('cancelled', () => {
      if (!ended) seen.cancelled = true;
    });
    const { id, mode } = backend;
    const fail = (): void => {
      ended = true;
      call.emit('error', legFailure(id));
    };
    if (mode === 'fail-at-once') return fail();
    if (mode === 'never-read') return;
    if (mode === 'answer') call.sendMetadata(metadataOf(['x-leg', id]));
    // ServerStream writes as its client takes them (write() false: wait for 'drain').
    let pending = 0;
    let next = 0;
    const finish = (): void => {
      if (mode !== 'answer' || pending > 0 || !seen.halfClosed || ended) return;
      ended = true;
      call.end(metadataOf(['x-leg', id]));
    };
    const writeMore = (): void => {
      while (pending > 0) {
        pending--;
        backend.written++;
        const message = Buffer.concat([Buffer.from(`${id}-${next++}`), Buffer.alloc(backend.pad)]);
        if (!call.write(message)) return;
      }
      finish();
    };
    call.on('drain', writeMore);
    call.on('data', (message: Buffer) => {
      seen.messages.push(message);
      if (mode !== 'answer') return;
      if (seen.method !== `${ECHO}/ServerStream`) {
        call.write(Buffer.concat([Buffer.from(`${id}:`), message]));
        return;
      }
      pending += backend.count;
      writeMore();
    });
    call.on('end', () => {
      seen.halfClosed = true;
      if (mode === 'fail') fail();
      finish();
    });
  };
}

/** Starts leg backend `id` on 127.0.0.1:0, answering as `mode` (changeable between calls). */
export async function startLegBackend(id: string, mode: LegMode = 'answer'): Promise<LegBackend> {
  const state = { id, mode, count: 3, pad: 0, written: 0, calls: [] as LegCall[] } as LegBackend;
  const setup = (server: Server): void => {
    for (const method of ['Unary', 'ClientStream', 'ServerStream', 'Bidi']) {
      server.register(`${ECHO}/${method}`, handler(state), raw, raw, 'bidi');
    }
  };
  return Object.assign(state, await startServer(setup));
}
