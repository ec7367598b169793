/**
 * A mirror backend for the mirror specs: a raw grpc-js server whose `test.Echo` methods (all
 * registered as bidi: a mirrored copy is a raw bidi call whatever the method) record what the
 * proxy copied to them — metadata, every message, the half-close — and answer as `mode` says.
 */
import { Metadata, status, type Server, type ServerDuplexStream } from '@grpc/grpc-js';
import { raw, startServer, type RunningServer } from './grpc-fixtures';
import { ECHO } from './test-backend';

/**
 * `answer`: replies `mirror:<message>` to each message, then OK after the half-close; `fail`:
 * ends with `ABORTED` after the half-close; `never-read`: never reads a message (flow control
 * holds the proxy's writes) and never ends; `hang`: reads everything, never ends.
 */
export type MirrorMode = 'answer' | 'fail' | 'never-read' | 'hang';

export interface MirroredCall {
  readonly method: string;
  readonly metadata: Metadata;
  readonly deadline: number;
  readonly messages: Buffer[];
  halfClosed: boolean;
  cancelled: boolean;
}

export interface MirrorBackend extends RunningServer {
  mode: MirrorMode;
  readonly calls: MirroredCall[];
}

export const MIRROR_FAILURE = 'the mirror says no';

/** A new record of `call` (no message yet), added to `calls`. */
export function recordCall(
  call: ServerDuplexStream<Buffer, Buffer>,
  calls: MirroredCall[],
): MirroredCall {
  const deadline = call.getDeadline();
  const seen: MirroredCall = {
    method: call.getPath(),
    metadata: call.metadata.clone(),
    deadline: deadline instanceof Date ? deadline.getTime() : Number(deadline),
    messages: [],
    halfClosed: false,
    cancelled: false,
  };
  calls.push(seen);
  return seen;
}

function handler(backend: { mode: MirrorMode; calls: MirroredCall[] }) {
  return (call: ServerDuplexStream<Buffer, Buffer>): void => {
    const seen = recordCall(call, backend.calls);
    call.on('cancelled', () => (seen.cancelled = true));
    const mode = backend.mode;
    if (mode === 'never-read') return;
    call.on('data', (message: Buffer) => {
      seen.messages.push(message);
      if (mode === 'answer') call.write(Buffer.concat([Buffer.from('mirror:'), message]));
    });
    call.on('end', () => {
      seen.halfClosed = true;
      if (mode === 'answer') call.end();
      if (mode === 'fail') {
        call.emit('error', {
          code: status.ABORTED,
          details: MIRROR_FAILURE,
          metadata: new Metadata(),
        });
      }
    });
  };
}

/** Starts a mirror backend on 127.0.0.1:0 answering as `mode` (changeable between calls). */
export async function startMirrorBackend(mode: MirrorMode = 'answer'): Promise<MirrorBackend> {
  const state = { mode, calls: [] as MirroredCall[] };
  const setup = (server: Server): void => {
    for (const method of ['Unary', 'ClientStream', 'ServerStream', 'Bidi']) {
      server.register(`${ECHO}/${method}`, handler(state), raw, raw, 'bidi');
    }
  };
  const running = await startServer(setup);
  return Object.assign(state, running);
}
