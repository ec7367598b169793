import { status as Status } from '@grpc/grpc-js';
import type { WireMessage } from '../grpc-frames';
import { callClientStream, callServerStream, echoRequest } from '../client-calls';
import { patternPayload } from '../payload';
import { RESPONSE_ENCODING_KEY } from '../server-wire';
import { expectBytes, expectEqual, expectStatus, fail, show } from './check';
import type { CaseContext } from './context';
import { defineCase } from './define-case';
import { tapCall } from './wire-taps';
import type { WireSide } from './wire-taps';

/** grpc-js's number for gzip in `grpc.default_compression_algorithm`. */
const GZIP = 2;
const MESSAGES = 3;
/** Compressible (a repeating pattern), and big enough that compressing it pays. */
const SIZE = 20_000;

/**
 * Checks the messages `side` saw: `count` of them, all compressed under `grpc-encoding: gzip`,
 * or, when the proxy declares it inflates them, all uncompressed.
 */
function expectCompression(
  context: CaseContext,
  what: string,
  side: WireSide,
  count: number,
  hint: string,
): void {
  if (!side.seen) fail(`the ${what} stream of the call was never seen`);
  expectEqual(`messages the ${what} received`, side.messages.length, count);
  const flags = side.messages.map((m: WireMessage) => (m.compressed ? 'gzip' : 'plain'));
  if (context.options.declared?.inflatesCompressedMessages === true) {
    expectEqual(
      `compression of the messages the ${what} received (the proxy declares it inflates them)`,
      flags,
      Array<string>(count).fill('plain'),
    );
    return;
  }
  const encoding = side.headers['grpc-encoding'];
  if (encoding !== 'gzip' || flags.some((flag) => flag !== 'gzip')) {
    fail(
      `the ${what} received the messages ${show(flags)} with grpc-encoding ${show(encoding)}, ` +
        `expected all gzip-compressed under grpc-encoding 'gzip'${hint}`,
    );
  }
}

export const compressedRequestStaysCompressed = defineCase(
  'compressed_request_stays_compressed',
  'gzip-compressed request messages reach the backend compressed (grpc-encoding: gzip, each ' +
    'message flagged) and intact, unless the proxy declares it inflates them.',
  async (context) => {
    const client = context.newClient('proxy', { 'grpc.default_compression_algorithm': GZIP });
    const call = context.tag();
    const wire = tapCall(call.id, context.proxyAddress, context.backend.port);
    const payloads = Array.from({ length: MESSAGES }, (_, i) => patternPayload(SIZE + i));
    try {
      const outcome = await callClientStream(
        client,
        payloads.map((payload) => echoRequest({ payload })),
        call,
      );
      expectStatus('status', outcome.status, Status.OK);
      const record = await call.backendRecord('the call', (c) => c.ended);
      record.requests.forEach((request, i) =>
        expectBytes(`request ${i} at the backend`, request.payload, payloads[i]),
      );
      expectCompression(context, 'backend', wire.backend, MESSAGES, '');
    } finally {
      wire.stop();
    }
  },
);

export const compressedResponseStaysCompressed = defineCase(
  'compressed_response_stays_compressed',
  'gzip-compressed response messages reach the client compressed (grpc-encoding: gzip, each ' +
    'message flagged) and intact, unless the proxy declares it inflates them.',
  async (context) => {
    const call = context.tag();
    call.metadata.set(RESPONSE_ENCODING_KEY, 'gzip');
    const wire = tapCall(call.id, context.proxyAddress, context.backend.port);
    try {
      const outcome = await callServerStream(
        context.client,
        echoRequest({ responseCount: MESSAGES, responseSize: SIZE }),
        call,
      );
      expectStatus('status', outcome.status, Status.OK);
      expectEqual('responses', outcome.responses.length, MESSAGES);
      outcome.responses.forEach((response, i) =>
        expectBytes(`response ${i}`, response.payload, patternPayload(SIZE)),
      );
      const accepted = wire.backend.headers['grpc-accept-encoding'];
      const hint = ` (the request reached the backend with grpc-accept-encoding ${show(accepted)})`;
      expectCompression(context, 'client', wire.client, MESSAGES, hint);
    } finally {
      wire.stop();
    }
  },
);
