import { Metadata, status as Status } from '@grpc/grpc-js';
import type { StatusObject } from '@grpc/grpc-js';
import { callEcho, callServerStream, echoRequest, openBidi } from '../client-calls';
import type { CallOutcome } from '../client-calls';
import type { EchoServiceClient } from '../gen/grpc_proxy/testing/v1/echo';
import { createEchoClient } from '../echo-client';
import { metadataEntries } from '../metadata-entries';
import { codeName, expectEqual, expectStatus, fail, show } from './check';
import type { CaseContext } from './context';
import { defineCase } from './define-case';

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

const DETAILS = Buffer.from([0x08, 0x03, 0x12, 0x04, 0x00, 0xff, 0x7f, 0x80]);

function expectDetails(what: string, outcome: CallOutcome): void {
  const values = outcome.status.metadata.get('grpc-status-details-bin');
  if (values.length !== 1 || !Buffer.isBuffer(values[0]) || !values[0].equals(DETAILS)) {
    fail(`${what} grpc-status-details-bin: expected ${show([DETAILS])}, got ${show(values)}`);
  }
}

export const statusDetails = defineCase(
  'status_details',
  'grpc-status-details-bin and trailers of an error reach the client unchanged, before and ' +
    'after response messages.',
  async (context) => {
    const knobs = {
      statusCode: Status.INVALID_ARGUMENT,
      statusMessage: 'with details',
      statusDetails: DETAILS,
      responseTrailers: metadataEntries([['x-backend-error-trailer', 'kept']]),
    };
    const unary = await callEcho(context.client, echoRequest(knobs), context.tag());
    expectStatus('unary', unary.status, Status.INVALID_ARGUMENT, 'with details');
    expectDetails('unary', unary);
    expectEqual('unary trailer', unary.status.metadata.get('x-backend-error-trailer'), ['kept']);

    const stream = await callServerStream(
      context.client,
      echoRequest({ ...knobs, responseCount: 3, statusAfter: 2 }),
      context.tag(),
    );
    expectStatus('server stream', stream.status, Status.INVALID_ARGUMENT, 'with details');
    expectEqual('server stream responses before the error', stream.responses.length, 2);
    expectDetails('server stream', stream);
    expectEqual('server stream trailer', stream.status.metadata.get('x-backend-error-trailer'), [
      'kept',
    ]);
  },
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
    const knobs = {
      statusCode: Status.NOT_FOUND,
      statusMessage: 'nothing here',
      responseTrailers: metadataEntries([['x-backend-trailer', 'only']]),
    };
    const unary = await callEcho(context.client, echoRequest(knobs), context.tag());
    expectStatus('unary', unary.status, Status.NOT_FOUND, 'nothing here');
    expectTrailersOnly('unary', unary);
    expectEqual('unary trailer', unary.status.metadata.get('x-backend-trailer'), ['only']);

    const stream = await callServerStream(
      context.client,
      echoRequest({ ...knobs, responseCount: 2 }),
      context.tag(),
    );
    expectStatus('server stream', stream.status, Status.NOT_FOUND, 'nothing here');
    expectTrailersOnly('server stream', stream);
  },
);

function rawUnary(client: EchoServiceClient, path: string): Promise<StatusObject> {
  return new Promise((resolve) => {
    const call = client.makeUnaryRequest(
      path,
      (value: Buffer) => value,
      (value: Buffer) => value,
      Buffer.from('unknown'),
      new Metadata(),
      { deadline: Date.now() + 15_000 },
      () => undefined,
    );
    call.on('status', resolve);
  });
}

/** Checks the backend (not the proxy) answers `path`, exactly as it answers directly. */
async function answeredByBackend(context: CaseContext, path: string): Promise<void> {
  const before = await context.backend.callCounts();
  const proxied = await rawUnary(context.client, path);
  const after = await context.backend.callCounts();
  if (after.failed - before.failed < 1) {
    fail(
      `the backend never saw the call to ${path} (backend calls failed ${before.failed} -> ` +
        `${after.failed}); the proxy answered ${codeName(proxied.code)} "${proxied.details}" itself`,
    );
  }
  const direct = createEchoClient(context.backend.address, context.options.backendClient);
  try {
    const expected = await rawUnary(direct, path);
    expectStatus(`status for ${path}`, proxied, expected.code, expected.details);
  } finally {
    direct.close();
  }
}

export const unimplementedMethod = defineCase(
  'unimplemented_method',
  'A method the backend lacks, on a service it has, is answered UNIMPLEMENTED by the backend.',
  (context) => answeredByBackend(context, '/grpc_proxy.testing.v1.EchoService/NoSuchMethod'),
);

export const unimplementedService = defineCase(
  'unimplemented_service',
  'A service the backend lacks is answered UNIMPLEMENTED by the backend.',
  (context) => answeredByBackend(context, '/grpc_proxy.testing.v1.NoSuchService/Method'),
);
