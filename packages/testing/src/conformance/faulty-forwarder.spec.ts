import { startEchoServer } from '../echo-server';
import type { EchoServerHandle } from '../echo-server';
import { startForwarder } from '../test-support/forwarder';
import type { ForwarderFault } from '../test-support/forwarder';
import { conformanceCases } from './cases';
import { ConformanceError, show } from './check';
import { describeProxyConformance } from './describe-proxy-conformance';
import { wellFormedDetails } from './rpc-status';
import type { ConformanceCase, ConformanceOptions } from './types';

function caseNamed(name: string): ConformanceCase {
  const found = conformanceCases.find((c) => c.name === name);
  if (found === undefined) throw new Error(`no case ${name}`);
  return found;
}

// A correct forwarder passes every case: the suite asks nothing a faithful proxy cannot do. Being
// grpc-js on both legs, it inflates compressed messages (grpc-js decompresses what it receives
// and sends uncompressed): declared, so the compression cases check exactly that.
describeProxyConformance('test forwarder without faults', {
  startProxy: (backendAddress) => startForwarder(backendAddress),
  declared: { inflatesCompressedMessages: true },
});

/** Short waits: a faulty forwarder makes some cases wait for something that never comes. */
const STEP_TIMEOUT_MS = 1500;

describe('the suite catches a faulty forwarder', () => {
  let backend: EchoServerHandle;
  let forwarder: { address: string; close(): Promise<void> } | undefined;

  beforeEach(async () => {
    backend = await startEchoServer({ name: 'backend' });
  });

  afterEach(async () => {
    await forwarder?.close();
    forwarder = undefined;
    backend.forceClose();
  });

  /**
   * Runs case `name` through a forwarder with `fault` (`'none'`, or faults joined with `+`);
   * resolves with its error message.
   */
  async function failureOf(
    fault: string,
    name: string,
    options: ConformanceOptions = {},
  ): Promise<string> {
    const error = await errorOf(fault, name, options);
    return error.message;
  }

  /** Runs case `name` through a forwarder with `fault` (as above); resolves with what it threw. */
  async function errorOf(
    fault: string,
    name: string,
    options: ConformanceOptions = {},
  ): Promise<Error> {
    const faults = fault === 'none' ? [] : (fault.split('+') as ForwarderFault[]);
    forwarder = await startForwarder(backend.address, faults);
    try {
      await caseNamed(name).run(forwarder.address, backend, {
        stepTimeoutMs: STEP_TIMEOUT_MS,
        ...options,
      });
    } catch (error) {
      return error as Error;
    }
    throw new Error(`case ${name} passed through a forwarder with fault ${fault}`);
  }

  it.each([
    [
      'drop-trailers',
      'custom_metadata',
      `custom_metadata: unary trailers: expected { 'x-backend-trailing': [ 't1, t2' ], 'x-backend-trailing-bin': [ 'hex:fffe', 'hex:00' ] }, got {}`,
    ],
    [
      'drop-trailers',
      'backend_ends_first',
      `backend_ends_first: trailer with status 0: expected [ 'sent' ], got []`,
    ],
    [
      'drop-status-details',
      'status_details',
      `status_details: unary grpc-status-details-bin: expected ${show([wellFormedDetails(3)])}, got []`,
    ],
    [
      'drop-status-details',
      'malformed_status_details',
      `malformed_status_details: unary grpc-status-details-bin: expected [ '<bytes 0803120400ff7f80>' ], got []`,
    ],
    [
      'rewrite-status-message',
      'status_code_and_message',
      `status_code_and_message: unary: expected status message 'test status message', got 'forwarder error'`,
    ],
    [
      'rewrite-status-message',
      'special_status_message',
      `special_status_message: unary: expected status message '\\t\\ntest with whitespace\\r\\nand Unicode BMP ☺ and non-BMP 😈\\t\\n', got 'forwarder error'`,
    ],
    [
      'headers-before-every-status',
      'trailers_only_error',
      `trailers_only_error: unary: expected a trailers-only response (status and no headers frame), got events [ 'headers', 'status' ]; headers frame keys [ 'content-type', 'date' ]`,
    ],
    [
      'hold-headers',
      'headers_first_then_wait',
      `headers_first_then_wait: response headers the backend sent before any message never reached the client (response headers did not happen within ${STEP_TIMEOUT_MS} ms); does the proxy hold headers until the first message?`,
    ],
    [
      'ignore-cancel',
      'cancel_after_begin',
      `cancel_after_begin: the backend did not see the cancellation: its call was still running ${STEP_TIMEOUT_MS} ms after the client cancelled`,
    ],
    [
      'ignore-cancel',
      'cancel_after_first_response',
      `cancel_after_first_response: the backend did not see the cancellation: its call was still running ${STEP_TIMEOUT_MS} ms after the client cancelled`,
    ],
    [
      'drop-deadline',
      'deadline_propagated',
      'deadline_propagated: the backend saw no deadline (no grpc-timeout reached it)',
    ],
    [
      'drop-deadline+ignore-cancel',
      'timeout_on_sleeping_server',
      `timeout_on_sleeping_server: the backend's call was still running ${STEP_TIMEOUT_MS} ms after the client's deadline passed`,
    ],
    [
      'add-request-header',
      'no_request_headers_added',
      `no_request_headers_added: the backend saw request headers the client never sent: { 'x-forwarded-for': [ '127.0.0.1' ] } (a direct call has [ 'user-agent', 'x-conformance-call-id' ])`,
    ],
    [
      'add-response-header',
      'no_response_headers_added',
      `no_response_headers_added: the client saw response headers the backend never sent: { server: [ 'forwarder' ] } (a direct call has [ 'content-type', 'date', 'x-backend-header' ])`,
    ],
    [
      'drop-large-metadata',
      'metadata_value_32_kib',
      'metadata_value_32_kib: request metadata at the backend x-conformance-large: expected one value of 32768 chars, got no value',
    ],
    [
      'decode-messages',
      'opaque_payload',
      `opaque_payload: status: expected status OK (0), got INTERNAL (13) "forwarder could not decode a message"`,
    ],
    [
      'none',
      'compressed_request_stays_compressed',
      `compressed_request_stays_compressed: the backend received the messages [ 'plain', 'plain', 'plain' ] with grpc-encoding undefined, expected all gzip-compressed under grpc-encoding 'gzip'`,
    ],
    [
      'none',
      'compressed_response_stays_compressed',
      `compressed_response_stays_compressed: the client received the messages [ 'plain', 'plain', 'plain' ] with grpc-encoding 'identity', expected all gzip-compressed under grpc-encoding 'gzip' (the request reached the backend with grpc-accept-encoding 'identity,deflate,gzip')`,
    ],
    [
      'wait-for-half-close',
      'backend_ends_first',
      `backend_ends_first: the status while the client side is open did not happen within ${STEP_TIMEOUT_MS} ms`,
    ],
    [
      'hold-half-close',
      'half_close_reaches_backend',
      `half_close_reaches_backend: the answer the backend gives once it sees the half-close did not happen within ${STEP_TIMEOUT_MS} ms; does the proxy pass the client's half-close on to the backend?`,
    ],
    [
      'answer-unknown-methods',
      'unimplemented_service',
      'unimplemented_service: the backend never saw the call to /grpc_proxy.testing.v1.NoSuchService/Method (backend calls failed 0 -> 0); the proxy answered UNIMPLEMENTED (12) "The server does not implement the method /grpc_proxy.testing.v1.NoSuchService/Method" itself',
    ],
  ] as const)('%s fails %s', async (fault, name, message) => {
    expect(await failureOf(fault, name)).toBe(message);
  });

  it('cancels the calls a failed case left open, long before their deadline', async () => {
    await failureOf('hold-half-close', 'half_close_reaches_backend');

    const left = await backend.waitForCancelled('Bidi');
    expect(Date.now()).toBeLessThan(left.deadline);
    expect(left.halfClosed).toBe(false);
  });

  it('throws a ConformanceError for a difference it found', async () => {
    const error = await errorOf('drop-status-details', 'status_details');
    expect(error).toBeInstanceOf(ConformanceError);
    expect(error.name).toBe('ConformanceError');
  });

  it('idle-timeout-100ms fails idle_stream_stays_open', async () => {
    expect(
      await failureOf('idle-timeout-100ms', 'idle_stream_stays_open', { idleStreamMs: 300 }),
    ).toMatch(
      /^idle_stream_stays_open: the call ended 0\.\d s into the silence: UNAVAILABLE \(14\) "forwarder idle timeout"$/,
    );
  });

  it('a declared header addition passes; an inflation declared but not done fails', async () => {
    forwarder = await startForwarder(backend.address, ['add-request-header']);
    await caseNamed('no_request_headers_added').run(forwarder.address, backend, {
      declared: { addedRequestHeaders: ['x-forwarded-for'] },
    });
    await expect(
      caseNamed('compressed_request_stays_compressed').run(backend.address, backend, {
        declared: { inflatesCompressedMessages: true },
      }),
    ).rejects.toThrow(
      "compressed_request_stays_compressed: compression of the messages the backend received (the proxy declares it inflates them): expected [ 'plain', 'plain', 'plain' ], got [ 'gzip', 'gzip', 'gzip' ]",
    );
  });

  it('default-message-limits fails large_unary', async () => {
    expect(await failureOf('default-message-limits', 'large_unary')).toMatch(
      /^large_unary: status: expected status OK \(0\), got RESOURCE_EXHAUSTED \(8\) ".*"$/,
    );
  });
});
