/** Mirror cases: a mirror that fails, refuses, stalls or outlives the call never shows. */
import { status as Status } from '@grpc/grpc-js';
import type { StatusObject } from '@grpc/grpc-js';
import { callClientStream, callEcho, echoRequest } from '../client-calls';
import { expectEqual, expectStatus, fail } from './check';
import { copiedCall, expectCopied } from './mirror-copy-cases';
import { defineMirrorCase } from './mirror-case';
import type { MirrorCaseContext } from './mirror-case';
import type { LoggedMirrorReport, MirrorReportShape } from './mirror-director';

/** The receive limit of the `strict` mirror: smaller than any request the cases send. */
export const STRICT_MIRROR_RECEIVE_LIMIT = 16;

/** The client messages of the slow-reader case: 64 KiB each. */
const CHUNK_BYTES = 64 * 1024;

/**
 * Checks the client got OK, then waits for the case's report and checks it is the only one, with
 * `expected`'s outcome and code; returns it.
 */
async function expectOneReport(
  context: MirrorCaseContext,
  clientStatus: StatusObject,
  expected: Pick<MirrorReportShape, 'outcome' | 'code'>,
): Promise<LoggedMirrorReport> {
  expectStatus('status the client got', clientStatus, Status.OK);
  const reports = await context.reports(1, 'the mirror report of the call');
  const [report] = reports;
  expectEqual(
    `report (details ${JSON.stringify(report.details)})`,
    { outcome: report.outcome, code: report.code },
    expected,
  );
  expectEqual('reports for the call', reports.length, 1);
  return report;
}

export const mirrorErrorHidden = defineMirrorCase(
  'mirror_error_hidden',
  'A mirror answering RESOURCE_EXHAUSTED (its receive limit) does not show: the client gets OK ' +
    'from the primary; the report is completed with the mirror’s code.',
  async (context) => {
    const call = context.tagFor('strict');
    const request = echoRequest({ payload: Buffer.alloc(STRICT_MIRROR_RECEIVE_LIMIT * 4, 7) });
    const outcome = await callEcho(context.client, request, call);
    expectEqual('responses the client got', outcome.responses.length, 1);
    await expectOneReport(context, outcome.status, {
      outcome: 'completed',
      code: Status.RESOURCE_EXHAUSTED,
    });
  },
);

export const mirrorRefusedFailed = defineMirrorCase(
  'mirror_refused_failed',
  'A mirror whose address refuses connections does not show: the client gets OK; the report is ' +
    'failed with UNAVAILABLE.',
  async (context) => {
    const call = context.tagFor('refused');
    const outcome = await callEcho(
      context.client,
      echoRequest({ payload: Buffer.from('x') }),
      call,
    );
    await expectOneReport(context, outcome.status, { outcome: 'failed', code: Status.UNAVAILABLE });
  },
);

export const mirrorSlowReaderDropped = defineMirrorCase(
  'mirror_slow_reader_dropped',
  'A mirror that never reads does not slow the call: a client stream of 1 MiB past the mirror ' +
    'budget reaches the primary whole; the report is dropped with CANCELLED, by the budget (sooner ' +
    'than mirrorTimeoutMs after the call).',
  async (context) => {
    const call = context.tagFor('silent');
    const streamsBefore = context.mirrors.silent.streams.length;
    const count = Math.ceil((context.expectations.mirrorBufferBytes + 1024 * 1024) / CHUNK_BYTES);
    const requests = Array.from({ length: count }, (_, i) =>
      echoRequest({ payload: Buffer.alloc(CHUNK_BYTES, i % 251) }),
    );
    const outcome = await callClientStream(context.client, requests, call);
    const ended = performance.now();
    expectEqual('responses the client got', outcome.responses.length, 1);
    expectEqual('requests the primary counted', outcome.responses[0].requestCount, count);
    expectEqual(
      'bytes the primary echoed',
      outcome.responses[0].payload.length,
      count * CHUNK_BYTES,
    );
    const report = await expectOneReport(context, outcome.status, {
      outcome: 'dropped',
      code: Status.CANCELLED,
    });
    // A proxy without the budget would drop the copy too, but only mirrorTimeoutMs after the call.
    if (report.at - ended >= context.expectations.mirrorTimeoutMs) {
      fail(
        `the copy was dropped ${Math.round(report.at - ended)} ms after the call: by ` +
          `mirrorTimeoutMs (${context.expectations.mirrorTimeoutMs} ms), not by the byte budget`,
      );
    }
    expectEqual('streams the mirror saw', context.mirrors.silent.streams.length - streamsBefore, 1);
  },
);

export const mirrorOutlivesCallDropped = defineMirrorCase(
  'mirror_outlives_call_dropped',
  'A mirror still holding its answer when the call ends is dropped (CANCELLED) mirrorTimeoutMs ' +
    'later, never sooner; the client got OK at once.',
  async (context) => {
    const call = context.tagFor('silent');
    const streamsBefore = context.mirrors.silent.streams.length;
    const outcome = await callEcho(
      context.client,
      echoRequest({ payload: Buffer.from('x') }),
      call,
    );
    const ended = performance.now();
    const report = await expectOneReport(context, outcome.status, {
      outcome: 'dropped',
      code: Status.CANCELLED,
    });
    // The proxy's call ended before the client saw its status, by how much a loaded machine
    // decides (271 ms seen in CI): a copy dropped with its call would show about 0 ms, so half
    // the timeout still tells the two apart.
    const waited = report.at - ended;
    if (waited < context.expectations.mirrorTimeoutMs / 2) {
      fail(
        `the copy was dropped ${Math.round(waited)} ms after the call, ` +
          `before mirrorTimeoutMs (${context.expectations.mirrorTimeoutMs} ms)`,
      );
    }
    expectEqual('streams the mirror saw', context.mirrors.silent.streams.length - streamsBefore, 1);
  },
);

export const mirrorPercentZero = defineMirrorCase(
  'mirror_percent_zero',
  'A mirror at percent 0 gets no copy and gives no report (a copied call after it gives the ' +
    'only report, and is the echo mirror’s only call).',
  async (context) => {
    const before = context.mirrors.echo.calls.length;
    const skipped = context.tagFor('none');
    const outcome = await callEcho(
      context.client,
      echoRequest({ payload: Buffer.from('x') }),
      skipped,
    );
    expectStatus('status the client got', outcome.status, Status.OK);
    const call = copiedCall(context);
    expectStatus(
      'status of the copied call',
      (await callEcho(context.client, echoRequest({ payload: Buffer.from('y') }), call)).status,
      Status.OK,
    );
    await expectCopied(context, call);
    expectEqual('calls the echo mirror received', context.mirrors.echo.calls.length - before, 1);
  },
);
