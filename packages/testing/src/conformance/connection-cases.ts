import { setTimeout as delay } from 'node:timers/promises';
import { status as Status } from '@grpc/grpc-js';
import { callEcho, echoRequest, openBidi } from '../client-calls';
import { expectEqual, expectStatus, fail, statusCodeLabel, within } from './check';
import type { CaseContext } from './context';
import { defineCase } from './define-case';
import { CALL_ID_KEY } from './types';
import type { ConformanceOptions } from './types';

/** Default of `idleStreamMs`: past nginx's 60 s `grpc_read_timeout` and haproxy's 50 s. */
const DEFAULT_IDLE_STREAM_MS = 70_000;

const idleMs = (options: ConformanceOptions): number =>
  options.idleStreamMs ?? DEFAULT_IDLE_STREAM_MS;

export const idleStreamStaysOpen = defineCase(
  'idle_stream_stays_open',
  'A bidi stream silent both ways for longer than common proxy read timeouts (`idleStreamMs`, ' +
    'default 70 s) still carries the next message and ends OK.',
  async (context) => {
    const idle = idleMs(context.options);
    const call = context.tag(Date.now() + idle + 3 * context.stepTimeoutMs);
    const session = openBidi(context.client, call);
    session.call.write(echoRequest({ payload: Buffer.from('before') }));
    expectEqual('first payload', (await session.nextResponse()).payload.toString(), 'before');
    let endedAfterMs: number | undefined;
    const silenceStart = Date.now();
    void session.outcome.then(() => (endedAfterMs ??= Date.now() - silenceStart));
    // The silence is what this case checks: nothing to wait for but time.
    await delay(idle);
    if (endedAfterMs !== undefined) {
      const { status } = await session.outcome;
      fail(
        `the call ended ${(endedAfterMs / 1000).toFixed(1)} s into the silence: ` +
          `${statusCodeLabel(status.code)} "${status.details}"`,
      );
    }
    session.call.write(echoRequest({ payload: Buffer.from('after') }));
    const after = await within(
      `the response to a message sent after ${idle} ms of silence`,
      context.stepTimeoutMs,
      session.nextResponse(),
    ).catch((error: Error) => fail(`the stream did not survive the silence: ${error.message}`));
    expectEqual('second payload', after.payload.toString(), 'after');
    session.call.end();
    expectStatus('status', (await session.outcome).status, Status.OK);
  },
  {
    slow: true,
    timeoutMs: DEFAULT_IDLE_STREAM_MS + 60_000,
    timeoutFor: (options) => idleMs(options) + 60_000,
  },
);

const WORKERS = 4;
/** Calls each worker makes once the restart is over, so the new backend is seen serving. */
const CALLS_AFTER_RESTART = 5;
/** A bound on each worker's calls, whatever happens. */
const MAX_CALLS_PER_WORKER = 2_000;
const HELD_CALLS = 3;
const HELD_CALL_DELAY_MS = 300;

/** Calls back to back until `CALLS_AFTER_RESTART` calls started after `restarted()`. */
async function worker(
  context: CaseContext,
  n: number,
  restarted: () => boolean,
  failures: string[],
): Promise<number> {
  let after = 0;
  let calls = 0;
  while (calls < MAX_CALLS_PER_WORKER && after < CALLS_AFTER_RESTART) {
    const startedAfter = restarted();
    const outcome = await callEcho(context.client, echoRequest(), context.tag());
    calls++;
    if (startedAfter) after++;
    if (outcome.status.code !== Status.OK) {
      const when = startedAfter ? 'after the restart' : 'before the restart finished';
      failures.push(
        `worker ${n} call ${calls} (started ${when}): ${statusCodeLabel(outcome.status.code)} ` +
          `"${outcome.status.details}"`,
      );
    }
  }
  return calls;
}

/** Says which HTTP/2 streams keep the old backend from finishing its graceful shutdown. */
function openStreamsOf(context: CaseContext): string {
  const streams = context.backend.openStreams().map((stream) => {
    const id = stream.headers[CALL_ID_KEY];
    const call = context.backend.calls.find((c) => c.metadata.get(CALL_ID_KEY)[0] === id);
    const state = call === undefined ? 'no call logged' : call.ended ? 'its call ended' : 'running';
    return `${stream.method.split('/').pop()} (${state})`;
  });
  return (
    `the old backend waits for its HTTP/2 streams to close; open: ${streams.length}` +
    (streams.length > 0 ? ` (${streams.join(', ')})` : '')
  );
}

export const backendRestartLosesNoCall = defineCase(
  'backend_restart_loses_no_call',
  'The backend restarts gracefully (a new server takes over its address, the old one sends ' +
    'GOAWAY and finishes its calls) while calls run: every call ends OK, those in flight on ' +
    'the old server and those started during and after the restart.',
  async (context) => {
    const held = Array.from({ length: HELD_CALLS }, () => {
      const call = context.tag();
      const outcome = callEcho(context.client, echoRequest({ delayMs: HELD_CALL_DELAY_MS }), call);
      return { call, outcome };
    });
    await Promise.all(held.map(({ call }) => call.backendRecord('a held call')));
    let restarted = false;
    const failures: string[] = [];
    const workers = Promise.all(
      Array.from({ length: WORKERS }, (_, n) => worker(context, n, () => restarted, failures)),
    );
    await within('the backend restart', context.stepTimeoutMs, context.backend.restart()).catch(
      (error: Error) => fail(`${error.message}: ${openStreamsOf(context)}`),
    );
    restarted = true;
    const calls = (await workers).reduce((sum, n) => sum + n, 0);
    for (const [i, { outcome }] of held.entries()) {
      const { status } = await outcome;
      if (status.code !== Status.OK) {
        failures.unshift(
          `call ${i} in flight on the old backend: ${statusCodeLabel(status.code)} "${status.details}"`,
        );
      }
    }
    if (failures.length > 0) {
      fail(
        `${failures.length} of ${calls + HELD_CALLS} calls failed across the restart; ` +
          `first: ${failures[0]}`,
      );
    }
  },
);
