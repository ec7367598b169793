import { status as Status } from '@grpc/grpc-js';
import type { Client, StatusObject } from '@grpc/grpc-js';
import { callEcho, callRawUnary, callServerStream, echoRequest, openBidi } from '../client-calls';
import type { CallOutcome } from '../client-calls';
import { EchoRequest as EchoRequestMessage } from '../gen/grpc_proxy/testing/v1/echo';
import type { EchoRequest } from '../gen/grpc_proxy/testing/v1/echo';
import { entriesFromPairs } from '../metadata-entries';
import { statusCodeLabel, expectEqual, expectStatus, fail, show } from './check';
import type { CaseContext } from './context';
import { defineCase } from './define-case';
import { MALFORMED_DETAILS, wellFormedDetails } from './rpc-status';

async function failingUnaryAndBidi(
  context: CaseContext,
  code: number,
  message: string,
): Promise<void> {
  const unary = await callEcho(
    context.client,
    echoRequest({ statusCode: code, statusMessage: message }),
    context.tag(),
  );
  expectStatus('unary', unary.status, code, message);

  const session = openBidi(context.client, context.tag());
  session.call.write(echoRequest({ statusCode: code, statusMessage: message }));
  const bidi = await session.outcome;
  session.call.end();
  expectStatus('bidi', bidi.status, code, message);
}

export const statusCodeAndMessage = defineCase(
  'status_code_and_message',
  'A status code and message from the backend reach the client unchanged (unary and bidi).',
  (context) => failingUnaryAndBidi(context, Status.UNKNOWN, 'test status message'),
);

export const specialStatusMessage = defineCase(
  'special_status_message',
  'A status message with whitespace, control characters and Unicode arrives unchanged.',
  (context) =>
    failingUnaryAndBidi(
      context,
      Status.UNKNOWN,
      '\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n',
    ),
);

function expectDetails(what: string, outcome: CallOutcome, expected: Buffer): void {
  const values = outcome.status.metadata.get('grpc-status-details-bin');
  if (values.length !== 1 || !Buffer.isBuffer(values[0]) || !values[0].equals(expected)) {
    fail(`${what} grpc-status-details-bin: expected ${show([expected])}, got ${show(values)}`);
  }
}

/**
 * Runs `knobs` as a unary call, then as a server-streaming call with `streamKnobs` on top;
 * resolves with both outcomes, each named as the checks report it.
 */
async function unaryAndServerStream(
  context: CaseContext,
  knobs: Partial<EchoRequest>,
  streamKnobs: Partial<EchoRequest>,
): Promise<Array<[string, CallOutcome]>> {
  const unary = await callEcho(context.client, echoRequest(knobs), context.tag());
  const stream = await callServerStream(
    context.client,
    echoRequest({ ...knobs, ...streamKnobs }),
    context.tag(),
  );
  return [
    ['unary', unary],
    ['server stream', stream],
  ];
}

/**
 * Fails a unary and a server-streaming call (after two responses) with `details` as
 * `grpc-status-details-bin` and an error trailer; checks both reach the client unchanged.
 */
async function detailsPassUnchanged(context: CaseContext, details: Buffer): Promise<void> {
  const outcomes = await unaryAndServerStream(
    context,
    {
      statusCode: Status.INVALID_ARGUMENT,
      statusMessage: 'with details',
      statusDetails: details,
      responseTrailers: entriesFromPairs([['x-backend-error-trailer', 'kept']]),
    },
    { responseCount: 3, statusAfter: 2 },
  );
  for (const [what, outcome] of outcomes) {
    expectStatus(what, outcome.status, Status.INVALID_ARGUMENT, 'with details');
    expectDetails(what, outcome, details);
    expectEqual(`${what} trailer`, outcome.status.metadata.get('x-backend-error-trailer'), [
      'kept',
    ]);
  }
  const [, [, stream]] = outcomes;
  expectEqual('server stream responses before the error', stream.responses.length, 2);
}

export const statusDetails = defineCase(
  'status_details',
  'A well-formed google.rpc.Status in grpc-status-details-bin (its message differs from ' +
    'grpc-message) and the error trailers reach the client byte for byte, before and after ' +
    'response messages.',
  (context) => detailsPassUnchanged(context, wellFormedDetails(Status.INVALID_ARGUMENT)),
);

export const malformedStatusDetails = defineCase(
  'malformed_status_details',
  'grpc-status-details-bin bytes that are not a valid google.rpc.Status (invalid UTF-8 in its ' +
    'message) reach the client unchanged: the trailer is opaque bytes to gRPC.',
  (context) => detailsPassUnchanged(context, MALFORMED_DETAILS),
);

function expectTrailersOnly(what: string, outcome: CallOutcome): void {
  if (outcome.events.length !== 1 || outcome.events[0] !== 'status') {
    fail(
      `${what}: expected a trailers-only response (status and no headers frame), got events ` +
        `${show(outcome.events)}; headers frame keys ${show(Object.keys(outcome.headers?.toJSON() ?? {}).sort())}`,
    );
  }
}

export const trailersOnlyError = defineCase(
  'trailers_only_error',
  'An error the backend sends as a trailers-only response stays trailers-only, with its trailers.',
  async (context) => {
    const outcomes = await unaryAndServerStream(
      context,
      {
        statusCode: Status.NOT_FOUND,
        statusMessage: 'nothing here',
        responseTrailers: entriesFromPairs([['x-backend-trailer', 'only']]),
      },
      { responseCount: 2 },
    );
    for (const [what, outcome] of outcomes) {
      expectStatus(what, outcome.status, Status.NOT_FOUND, 'nothing here');
      expectTrailersOnly(what, outcome);
      expectEqual(`${what} trailer`, outcome.status.metadata.get('x-backend-trailer'), ['only']);
    }
  },
);

const UNKNOWN = Buffer.from('unknown');

/** The status of a raw call to `path`, which the echo service may not have. */
async function statusOfRawCall(client: Client, path: string): Promise<StatusObject> {
  // A valid EchoRequest: a proxy that parses messages has no reason to refuse it.
  const request = Buffer.from(
    EchoRequestMessage.encode(echoRequest({ payload: UNKNOWN })).finish(),
  );
  const outcome = await callRawUnary(client, path, request, {
    options: { deadline: Date.now() + 15_000 },
  });
  return outcome.status;
}

/** Checks the backend (not the proxy) answers `path`, exactly as it answers directly. */
async function answeredByBackend(context: CaseContext, path: string): Promise<void> {
  const before = await context.backend.callCounts();
  const proxied = await statusOfRawCall(context.client, path);
  const after = await context.backend.callCounts();
  if (after.failed - before.failed < 1) {
    fail(
      `the backend never saw the call to ${path} (backend calls failed ${before.failed} -> ` +
        `${after.failed}); the proxy answered ${statusCodeLabel(proxied.code)} "${proxied.details}" itself`,
    );
  }
  const expected = await statusOfRawCall(context.newClient('backend'), path);
  expectStatus(`status for ${path}`, proxied, expected.code, expected.details);
}

export const unimplementedMethod = defineCase(
  'unimplemented_method',
  'A method the backend lacks, on a service it has, is answered UNIMPLEMENTED by the backend ' +
    '(the request is valid protobuf).',
  (context) => answeredByBackend(context, '/grpc_proxy.testing.v1.EchoService/NoSuchMethod'),
);

export const unimplementedService = defineCase(
  'unimplemented_service',
  'A service the backend lacks is answered UNIMPLEMENTED by the backend (the request is valid ' +
    'protobuf).',
  (context) => answeredByBackend(context, '/grpc_proxy.testing.v1.NoSuchService/Method'),
);
