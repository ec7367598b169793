import { Metadata, status as Status } from '@grpc/grpc-js';
import { callEcho, openBidi, echoRequest } from '../client-calls';
import type { CallOutcome } from '../client-calls';
import type { EchoRequest } from '../gen/grpc_proxy/testing/v1/echo';
import { entriesFromPairs } from '../metadata-entries';
import { expectEqual, expectStatus } from './check';
import type { CaseContext, TaggedCall } from './context';
import { defineCase } from './define-case';

/** Prefix of the keys the client sends; the backend's keys use another, so echoes show. */
const CLIENT_PREFIX = 'x-conformance-';
const BACKEND_PREFIX = 'x-backend-';

/** Every value of every key starting with `prefix`, keys sorted, bytes as `hex:` strings. */
function valuesByKey(metadata: Metadata | undefined, prefix: string): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  const all = metadata?.toJSON() ?? {};
  for (const key of Object.keys(all).sort()) {
    if (!key.startsWith(prefix)) continue;
    result[key] = all[key].map((value) =>
      Buffer.isBuffer(value) ? `hex:${value.toString('hex')}` : String(value),
    );
  }
  return result;
}

function clientMetadata(call: TaggedCall): Metadata {
  const metadata = call.metadata;
  metadata.add(`${CLIENT_PREFIX}ascii`, 'value-1');
  metadata.add(`${CLIENT_PREFIX}ascii`, 'value-2');
  metadata.add(`${CLIENT_PREFIX}single`, 'only');
  metadata.add(`${CLIENT_PREFIX}blob-bin`, Buffer.from([0xab, 0xcd, 0xef]));
  metadata.add(`${CLIENT_PREFIX}blob-bin`, Buffer.from([0x00, 0x01]));
  return metadata;
}

// node:http2 joins repeated ASCII header fields into one ", "-separated value on receipt, while
// grpc-js keeps repeated -bin values apart; the expectations are what a client gets directly.
const EXPECTED_AT_BACKEND = {
  [`${CLIENT_PREFIX}ascii`]: ['value-1, value-2'],
  [`${CLIENT_PREFIX}blob-bin`]: ['hex:abcdef', 'hex:0001'],
  [`${CLIENT_PREFIX}call-id`]: ['<call id>'],
  [`${CLIENT_PREFIX}single`]: ['only'],
};
const EXPECTED_HEADERS = {
  [`${BACKEND_PREFIX}initial`]: ['h1, h2'],
  [`${BACKEND_PREFIX}initial-bin`]: ['hex:010203', 'hex:04'],
};
const EXPECTED_TRAILERS = {
  [`${BACKEND_PREFIX}trailing`]: ['t1, t2'],
  [`${BACKEND_PREFIX}trailing-bin`]: ['hex:fffe', 'hex:00'],
};

function metadataKnobs(): Partial<EchoRequest> {
  return {
    echoMetadata: true,
    responseHeaders: entriesFromPairs([
      [`${BACKEND_PREFIX}initial`, 'h1'],
      [`${BACKEND_PREFIX}initial`, 'h2'],
      [`${BACKEND_PREFIX}initial-bin`, Buffer.from([1, 2, 3])],
      [`${BACKEND_PREFIX}initial-bin`, Buffer.from([4])],
    ]),
    responseTrailers: entriesFromPairs([
      [`${BACKEND_PREFIX}trailing`, 't1'],
      [`${BACKEND_PREFIX}trailing`, 't2'],
      [`${BACKEND_PREFIX}trailing-bin`, Buffer.from([0xff, 0xfe])],
      [`${BACKEND_PREFIX}trailing-bin`, Buffer.from([0x00])],
    ]),
  };
}

async function checkMetadata(
  kind: string,
  context: CaseContext,
  call: TaggedCall,
  outcome: CallOutcome,
): Promise<void> {
  expectStatus(`${kind} status`, outcome.status, Status.OK);
  const record = await call.backendRecord('the finished call', (c) => c.ended);
  const seen = valuesByKey(record.metadata, CLIENT_PREFIX);
  expectEqual(`${kind} request metadata at the backend`, seen, {
    ...EXPECTED_AT_BACKEND,
    [`${CLIENT_PREFIX}call-id`]: [call.id],
  });
  expectEqual(
    `${kind} request metadata the backend echoed`,
    outcome.responses[0]?.requestMetadata.filter((e) => e.key.startsWith(CLIENT_PREFIX)).length,
    5,
  );
  expectEqual(
    `${kind} response headers`,
    valuesByKey(outcome.headers, BACKEND_PREFIX),
    EXPECTED_HEADERS,
  );
  expectEqual(
    `${kind} trailers`,
    valuesByKey(outcome.status.metadata, BACKEND_PREFIX),
    EXPECTED_TRAILERS,
  );
  expectEqual(
    `${kind} client keys reflected into headers`,
    valuesByKey(outcome.headers, CLIENT_PREFIX),
    {},
  );
  expectEqual(
    `${kind} client keys reflected into trailers`,
    valuesByKey(outcome.status.metadata, CLIENT_PREFIX),
    {},
  );
}

export const customMetadata = defineCase(
  'custom_metadata',
  'ASCII and -bin metadata with repeated values pass both ways unchanged: request metadata, ' +
    'response headers and trailers, on a unary and a bidi call.',
  async (context) => {
    const unaryCall = context.tag();
    const unary = await callEcho(context.client, echoRequest(metadataKnobs()), {
      metadata: clientMetadata(unaryCall),
      options: unaryCall.options,
    });
    await checkMetadata('unary', context, unaryCall, unary);

    const bidiCall = context.tag();
    const session = openBidi(context.client, {
      metadata: clientMetadata(bidiCall),
      options: bidiCall.options,
    });
    session.call.write(echoRequest(metadataKnobs()));
    session.call.write(echoRequest());
    session.call.end();
    const bidi = await session.outcome;
    expectEqual('bidi responses', bidi.responses.length, 2);
    await checkMetadata('bidi', context, bidiCall, bidi);
  },
);
