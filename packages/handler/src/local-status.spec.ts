import { Metadata, status, type StatusObject } from '@grpc/grpc-js';
import { GRPC_JS_LOCAL_PATTERNS, isLocalStatus } from './local-status';

function metadataOf(entries: Record<string, string> = {}): Metadata {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(entries)) metadata.set(key, value);
  return metadata;
}

/**
 * The statuses grpc-js 1.14.7 makes up when a call ends without the backend's trailers, with the
 * place in its sources that makes each; at least one row per pattern.
 */
const GRPC_JS_STATUSES: [string, status, string][] = [
  [
    'subchannel-call: CANCEL after the connection dropped',
    status.UNAVAILABLE,
    'Connection dropped',
  ],
  ['subchannel-call: INTERNAL_ERROR after ECONNRESET', status.UNAVAILABLE, 'read ECONNRESET'],
  ['subchannel-call: INTERNAL_ERROR after ETIMEDOUT', status.UNAVAILABLE, 'write ETIMEDOUT'],
  [
    'subchannel-call: NO_ERROR without trailers',
    status.INTERNAL,
    'Received RST_STREAM with code 0 (Call ended without gRPC status)',
  ],
  [
    'subchannel-call: INTERNAL_ERROR',
    status.INTERNAL,
    'Received RST_STREAM with code 2 (Internal server error)',
  ],
  ['subchannel-call: another RST_STREAM code', status.INTERNAL, 'Received RST_STREAM with code 1'],
  ['subchannel-call: CANCEL', status.CANCELLED, 'Call cancelled'],
  ['subchannel-call: REFUSED_STREAM', status.UNAVAILABLE, 'Stream refused by server'],
  [
    'subchannel-call: ENHANCE_YOUR_CALM',
    status.RESOURCE_EXHAUSTED,
    'Bandwidth exhausted or memory limit exceeded',
  ],
  ['subchannel-call: INADEQUATE_SECURITY', status.PERMISSION_DENIED, 'Protocol not secure enough'],
  [
    'subchannel-call: trailers without grpc-status',
    status.UNKNOWN,
    'No status information received',
  ],
  ['subchannel-call: an HTTP error', status.UNAVAILABLE, 'Received HTTP status code 503'],
  ['subchannel-call: a failed write', status.UNAVAILABLE, 'Write error: write EPIPE'],
  [
    'subchannel-call: a write that threw',
    status.UNAVAILABLE,
    'Write failed with error The stream has been destroyed',
  ],
  [
    'load-balancing-call: createStream threw',
    status.INTERNAL,
    'Failed to start HTTP/2 stream with error The session has been destroyed',
  ],
  [
    'stream-decoder: over the receive limit',
    status.RESOURCE_EXHAUSTED,
    'Received message larger than max (5000000 vs 4194304)',
  ],
  [
    'compression-filter: over the receive limit once inflated',
    status.RESOURCE_EXHAUSTED,
    'Received message that decompresses to a size larger than 4194304',
  ],
  [
    'compression-filter: a corrupt message',
    status.INTERNAL,
    'Failed to decompress gzip-encoded message',
  ],
  [
    "resolving-call: the route's deadline",
    status.DEADLINE_EXCEEDED,
    'Deadline exceeded after 0.101s,LB pick: 0.001s',
  ],
];

function statusOf(code: status, details: string, metadata?: Metadata): StatusObject {
  return { code, details, metadata } as StatusObject;
}

describe('isLocalStatus: made up by grpc-js, or sent by the backend', () => {
  it.each(GRPC_JS_LOCAL_PATTERNS)('has a row for the pattern %s', (pattern) => {
    const matches = new RegExp(`^(?:${pattern})`);
    expect(GRPC_JS_STATUSES.filter(([, , details]) => matches.test(details))).not.toEqual([]);
  });

  it.each(GRPC_JS_STATUSES)(
    "after the headers, with empty metadata: %s (%s '%s') is grpc-js's",
    (_where, code, details) => {
      expect(isLocalStatus(statusOf(code, details, metadataOf()), true)).toBe(true);
    },
  );

  it.each(GRPC_JS_STATUSES.filter(([, , details]) => details !== 'No status information received'))(
    "after the headers, with trailer metadata: %s (%s '%s') is the backend's",
    (_where, code, details) => {
      const trailers = metadataOf({ 'x-trailer': 'yes' });
      expect(isLocalStatus(statusOf(code, details, trailers), true)).toBe(false);
    },
  );

  it.each([
    {
      what: 'trailers without grpc-status (grpc-js keeps them)',
      backendStatus: statusOf(
        status.UNKNOWN,
        'No status information received',
        metadataOf({ 'x-trailer': 'yes' }),
      ),
      local: true,
    },
    {
      what: 'an application message',
      backendStatus: statusOf(status.UNAVAILABLE, 'overloaded: try later', metadataOf()),
      local: false,
    },
    {
      what: 'a known message not at the start',
      backendStatus: statusOf(status.INTERNAL, 'backend: Connection dropped', metadataOf()),
      local: false,
    },
    {
      what: 'a known message with more after it',
      backendStatus: statusOf(status.CANCELLED, 'Call cancelled by the backend', metadataOf()),
      local: false,
    },
    {
      what: "a backend's own deadline status",
      backendStatus: statusOf(status.DEADLINE_EXCEEDED, 'Deadline exceeded', metadataOf()),
      local: false,
    },
  ])('after the headers, $what: local is $local', ({ backendStatus, local }) => {
    expect(isLocalStatus(backendStatus, true)).toBe(local);
  });

  it.each([
    { what: 'empty metadata', metadata: metadataOf(), local: true },
    { what: 'no metadata', metadata: undefined, local: true },
    {
      what: 'trailers (a trailers-only response)',
      metadata: metadataOf({ 'content-type': 'application/grpc' }),
      local: false,
    },
  ])('before the headers, a status with $what: local is $local', ({ metadata, local }) => {
    expect(isLocalStatus(statusOf(status.NOT_FOUND, 'nothing here', metadata), false)).toBe(local);
  });

  it.each([
    ['before the headers, with empty metadata', false],
    ['after the headers, with a grpc-js message and empty metadata', true],
  ])("never takes OK for grpc-js's (%s)", (_what, afterHeaders) => {
    const ok = statusOf(status.OK, 'Call cancelled', metadataOf());
    expect(isLocalStatus(ok, afterHeaders)).toBe(false);
  });
});
