/** Mirror cases: each call kind is copied, whole, to an echo mirror; the client sees the primary. */
import { status as Status } from '@grpc/grpc-js';
import type { CallOutcome } from '../call-outcome';
import type { EchoCallRecord } from '../call-log';
import {
  callClientStream,
  callEcho,
  callServerStream,
  echoRequest,
  openBidi,
} from '../client-calls';
import { EchoRequest } from '../gen/grpc_proxy/testing/v1/echo';
import { expectBytes, expectEqual, expectStatus, fail } from './check';
import type { TaggedCall } from './context';
import { defineMirrorCase } from './mirror-case';
import type { MirrorCaseContext } from './mirror-case';
import { CALL_ID_KEY } from './types';

/** Client metadata every copy case sends, which the mirror must get as the primary does. */
const CLIENT_ENTRIES: ReadonlyArray<[string, string | Buffer]> = [
  ['x-mirror-case', 'copied as it is'],
  ['x-mirror-case-bin', Buffer.from([0, 1, 2, 0xff])],
];

/** A tagged call to the echo mirror carrying {@link CLIENT_ENTRIES}. */
export function copiedCall(context: MirrorCaseContext): TaggedCall {
  const call = context.tagFor('echo');
  for (const [key, value] of CLIENT_ENTRIES) call.metadata.set(key, value);
  return call;
}

function encoded(requests: readonly EchoRequest[]): Buffer[] {
  return requests.map((request) => Buffer.from(EchoRequest.encode(request).finish()));
}

function idOf(record: EchoCallRecord): unknown {
  return record.metadata.get(CALL_ID_KEY)[0];
}

/**
 * Checks call `call` reached the echo mirror as it reached the primary (the same request messages
 * in order, the client's metadata, plus the mirror header; the primary without it), and gave
 * exactly one `completed` report with code OK.
 */
export async function expectCopied(context: MirrorCaseContext, call: TaggedCall): Promise<void> {
  const [report] = await context.reports(1, `the mirror report of call ${call.id}`);
  const primary = await call.backendRecord('the primary call');
  const copies = context.mirrors.echo.calls.filter((record) => idOf(record) === call.id);
  expectEqual('copies the echo mirror received', copies.length, 1);
  const [copy] = copies;
  expectEqual('method of the copy', copy.method, primary.method);
  expectEqual(
    'request messages the mirror received',
    copy.requests.length,
    primary.requests.length,
  );
  const sent = encoded(primary.requests);
  encoded(copy.requests).forEach((bytes, i) => expectBytes(`mirror request ${i}`, bytes, sent[i]));
  for (const [key, value] of CLIENT_ENTRIES) {
    expectEqual(`mirror metadata ${key}`, copy.metadata.get(key), [value]);
  }
  const header = context.expectations.mirrorHeader;
  expectEqual(`mirror header ${header} on the copy`, copy.metadata.get(header), ['1']);
  expectEqual(`mirror header ${header} on the primary`, primary.metadata.get(header), []);
  // The details are the mirror's status message as its transport gives it (grpc-js: `OK`).
  expectEqual(
    `report (details ${JSON.stringify(report.details)})`,
    { method: report.method, outcome: report.outcome, code: report.code },
    { method: primary.method, outcome: 'completed', code: Status.OK },
  );
  if (report.backend.length === 0) fail('the report names no mirror backend');
  expectEqual('reports for the call', context.log.reports.length - context.firstReport, 1);
}

function expectAnswered(outcome: CallOutcome, payloads: readonly Buffer[]): void {
  expectStatus('status the client got', outcome.status, Status.OK);
  expectEqual('responses the client got', outcome.responses.length, payloads.length);
  outcome.responses.forEach((response, i) => {
    expectBytes(`response ${i}`, response.payload, payloads[i]);
    expectEqual(`server_name of response ${i}`, response.serverName, 'mirror-primary');
  });
}

const PAYLOADS = ['first', 'second', 'third'].map((word) => Buffer.from(`mirror ${word}`));

export const mirrorCopiesUnary = defineMirrorCase(
  'mirror_copies_unary',
  'A unary call is answered by the primary unchanged; the mirror gets the request and the ' +
    'metadata plus the mirror header; one completed report with OK.',
  async (context) => {
    const call = copiedCall(context);
    const request = echoRequest({ payload: PAYLOADS[0] });
    expectAnswered(await callEcho(context.client, request, call), [request.payload]);
    await expectCopied(context, call);
  },
);

export const mirrorCopiesServerStream = defineMirrorCase(
  'mirror_copies_server_stream',
  'A server-streaming call gets its three responses from the primary; the mirror gets the ' +
    'request; one completed report with OK.',
  async (context) => {
    const call = copiedCall(context);
    const request = echoRequest({ payload: PAYLOADS[0], responseCount: 3 });
    const outcome = await callServerStream(context.client, request, call);
    expectAnswered(outcome, [request.payload, request.payload, request.payload]);
    expectEqual(
      'response indexes',
      outcome.responses.map((r) => r.index),
      [0, 1, 2],
    );
    await expectCopied(context, call);
  },
);

export const mirrorCopiesClientStream = defineMirrorCase(
  'mirror_copies_client_stream',
  'A client-streaming call is answered by the primary; the mirror gets every request in order; ' +
    'one completed report with OK.',
  async (context) => {
    const call = copiedCall(context);
    const requests = PAYLOADS.map((payload) => echoRequest({ payload }));
    const outcome = await callClientStream(context.client, requests, call);
    expectAnswered(outcome, [Buffer.concat(PAYLOADS)]);
    await expectCopied(context, call);
  },
);

export const mirrorCopiesBidi = defineMirrorCase(
  'mirror_copies_bidi',
  'A bidi call in lockstep is answered by the primary message by message; the mirror gets every ' +
    'request in order; one completed report with OK.',
  async (context) => {
    const call = copiedCall(context);
    const session = openBidi(context.client, call);
    try {
      for (const [round, payload] of PAYLOADS.entries()) {
        session.call.write(echoRequest({ payload }));
        const response = await session.nextResponse();
        expectBytes(`response ${round}`, response.payload, payload);
      }
      session.call.end();
      expectAnswered(await session.outcome, PAYLOADS);
    } finally {
      session.call.cancel(); // no-op once the call has ended
    }
    await expectCopied(context, call);
  },
);
