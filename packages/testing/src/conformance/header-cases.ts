import { Metadata, status as Status } from '@grpc/grpc-js';
import type { MetadataValue } from '@grpc/grpc-js';
import { callEcho, echoRequest } from '../client-calls';
import { entriesFromPairs } from '../metadata-entries';
import { expectStatus, fail, show } from './check';
import type { CaseContext } from './context';
import { defineCase } from './define-case';
import { CALL_ID_KEY } from './types';

/** The keys of `metadata`, sorted. */
function keysOf(metadata: Metadata | undefined): string[] {
  return Object.keys(metadata?.toJSON() ?? {}).sort();
}

/** Keys in `proxied` but not in `direct` nor `declared`, with their values, for a message. */
function addedKeys(
  proxied: Metadata | undefined,
  direct: Metadata | undefined,
  declared: readonly string[] = [],
): Record<string, MetadataValue[]> {
  const expected = new Set([...keysOf(direct), ...declared]);
  const all = proxied?.toJSON() ?? {};
  return Object.fromEntries(Object.entries(all).filter(([key]) => !expected.has(key)));
}

export const noRequestHeadersAdded = defineCase(
  'no_request_headers_added',
  'The backend sees exactly the request header keys a direct call gives it: the proxy adds ' +
    'none (x-forwarded-*, via, ...) unless declared (`declared.addedRequestHeaders`).',
  async (context) => {
    const directCall = context.tag();
    const direct = await callEcho(context.newClient('backend'), echoRequest(), directCall);
    expectStatus('direct call status', direct.status, Status.OK);
    const proxiedCall = context.tag();
    const proxied = await callEcho(context.client, echoRequest(), proxiedCall);
    expectStatus('status', proxied.status, Status.OK);
    const seenDirect = await directCall.backendRecord('the direct call', (c) => c.ended);
    const seen = await proxiedCall.backendRecord('the call', (c) => c.ended);
    const added = addedKeys(
      seen.metadata,
      seenDirect.metadata,
      context.options.declared?.addedRequestHeaders,
    );
    if (Object.keys(added).length > 0) {
      fail(
        `the backend saw request headers the client never sent: ${show(added)} ` +
          `(a direct call has ${show(keysOf(seenDirect.metadata))})`,
      );
    }
  },
);

const RESPONSE_KNOBS = {
  responseHeaders: entriesFromPairs([['x-backend-header', 'h']]),
  responseTrailers: entriesFromPairs([['x-backend-trailer', 't']]),
};

export const noResponseHeadersAdded = defineCase(
  'no_response_headers_added',
  'The client sees exactly the response header and trailer keys a direct call gives it: the ' +
    'proxy adds none (server, via, alt-svc, ...) unless declared ' +
    '(`declared.addedResponseHeaders`).',
  async (context) => {
    const direct = await callEcho(
      context.newClient('backend'),
      echoRequest(RESPONSE_KNOBS),
      context.tag(),
    );
    expectStatus('direct call status', direct.status, Status.OK);
    const proxied = await callEcho(context.client, echoRequest(RESPONSE_KNOBS), context.tag());
    expectStatus('status', proxied.status, Status.OK);
    const declared = context.options.declared?.addedResponseHeaders;
    for (const [what, got, expected] of [
      ['response headers', proxied.headers, direct.headers],
      ['trailers', proxied.status.metadata, direct.status.metadata],
    ] as const) {
      const added = addedKeys(got, expected, declared);
      if (Object.keys(added).length > 0) {
        fail(
          `the client saw ${what} the backend never sent: ${show(added)} ` +
            `(a direct call has ${show(keysOf(expected))})`,
        );
      }
    }
  },
);

/** A printable value of `length` characters that HPACK's Huffman code cannot shrink much. */
function printableValue(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let state = 12345;
  let value = '';
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    value += alphabet[state % alphabet.length];
  }
  return value;
}

/** Describes metadata values without printing kilobytes of them. */
function describeValues(values: readonly MetadataValue[]): string {
  const each = values.map((v) => (Buffer.isBuffer(v) ? `${v.length} bytes` : `${v.length} chars`));
  return values.length === 0 ? 'no value' : `${values.length} value(s): ${each.join(', ')}`;
}

function sameValue(actual: MetadataValue, expected: string | Buffer): boolean {
  return Buffer.isBuffer(expected)
    ? Buffer.isBuffer(actual) && actual.equals(expected)
    : actual === expected;
}

/**
 * Sends `entries` as request metadata and has the backend send each as a response header and as
 * a trailer (keys prefixed `x-backend-`); checks every value arrives exactly, each way.
 */
async function metadataBothWays(
  context: CaseContext,
  entries: ReadonlyArray<readonly [string, string | Buffer]>,
): Promise<void> {
  const call = context.tag();
  for (const [key, value] of entries) call.metadata.add(key, value);
  const back = (suffix: string): Array<[string, string | Buffer]> =>
    entries.map(([key, value]) => [key.replace(/^x-conformance-/, `x-backend-${suffix}-`), value]);
  const outcome = await callEcho(
    context.client,
    echoRequest({
      responseHeaders: entriesFromPairs(back('h')),
      responseTrailers: entriesFromPairs(back('t')),
    }),
    call,
  );
  if (outcome.status.code !== Status.OK) {
    // Which leg failed: did the request (and its metadata) reach the backend at all?
    const seen = context.backend.calls.find((c) => c.metadata.get(CALL_ID_KEY)[0] === call.id);
    const where =
      seen === undefined
        ? 'the request never reached the backend'
        : 'the request reached the backend, the response did not reach the client';
    expectStatus(`status (${where})`, outcome.status, Status.OK);
  }
  const record = await call.backendRecord('the call', (c) => c.ended);
  const legs = [
    ['request metadata at the backend', record.metadata, entries],
    ['response headers', outcome.headers ?? new Metadata(), back('h')],
    ['trailers', outcome.status.metadata, back('t')],
  ] as const;
  for (const [what, metadata, expected] of legs) {
    for (const [key, value] of expected) {
      const got = metadata.get(key);
      if (got.length !== 1 || !sameValue(got[0], value)) {
        const size = Buffer.isBuffer(value) ? `${value.length} bytes` : `${value.length} chars`;
        fail(`${what} ${key}: expected one value of ${size}, got ${describeValues(got)}`);
      }
    }
  }
}

/** A case sending one metadata value of `size` characters each way; `sized` starts its description. */
function largeValueCase(name: string, size: number, sized: string) {
  return defineCase(
    name,
    `${sized} metadata value (printable ASCII) passes unchanged each way: request metadata, ` +
      'response header, trailer.',
    (context) => metadataBothWays(context, [['x-conformance-large', printableValue(size)]]),
  );
}

export const metadataValue8KiB = largeValueCase('metadata_value_8_kib', 8 * 1024, 'An 8 KiB');
export const metadataValue32KiB = largeValueCase('metadata_value_32_kib', 32 * 1024, 'A 32 KiB');

const MANY = 100;

export const metadata100Entries = defineCase(
  'metadata_100_entries',
  `${MANY} metadata entries pass unchanged each way: request metadata, response headers, ` +
    'trailers.',
  (context) =>
    metadataBothWays(
      context,
      Array.from({ length: MANY }, (_, i) => {
        const n = String(i).padStart(3, '0');
        return [`x-conformance-entry-${n}`, `value-${n}`] as const;
      }),
    ),
);

export const metadataBinEveryByte = defineCase(
  'metadata_bin_every_byte',
  'A -bin metadata value holding every byte value 0..255 passes unchanged each way: request ' +
    'metadata, response header, trailer.',
  (context) =>
    metadataBothWays(context, [
      ['x-conformance-every-byte-bin', Buffer.from(Array.from({ length: 256 }, (_, i) => i))],
    ]),
);
