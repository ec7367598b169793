import { Metadata, status, type Client, type ClientReadableStream } from '@grpc/grpc-js';
import { raw, rawClient } from './test-support/grpc-fixtures';
import { useHarness } from './test-support/harness';
import { ECHO } from './test-support/test-backend';

const MESSAGE = 64 * 1024;
const MESSAGES = 32; // 2 MiB a call
const CALLERS = 10; // on one client connection
const CALLS_EACH = 3; // one after the other

/**
 * The unsent-bytes budget against a client that reads all the time, only slower than the backend
 * writes (issue 18): grpc-js's server call holds up to 16 messages per call under that normal
 * backpressure (1 MiB a call here), so ten such calls hold 10 MiB, ten times the budget. That
 * is not a reader the budget is for: no call may be refused.
 */
describe('the unsent-bytes budget and a slow client that reads', () => {
  const h = useHarness({ maxClientBufferBytes: 1024 * 1024 });
  let client: Client;
  // Without retries: a refused stream would be retried transparently once, and hidden.
  beforeEach(() => (client = rawClient(h.proxy.target, { 'grpc.enable_retries': 0 })));
  afterEach(() => client.close());

  /** One 2 MiB server-streaming call, each message taken a timer turn after the previous one. */
  function slowCall(): Promise<{ code: number; details: string; messages: number }> {
    const metadata = new Metadata();
    metadata.set('x-count', String(MESSAGES));
    const request = Buffer.alloc(MESSAGE - 1, 7); // the backend appends one byte
    const call: ClientReadableStream<Buffer> = client.makeServerStreamRequest(
      `${ECHO}/ServerStream`,
      raw,
      raw,
      request,
      metadata,
    );
    let messages = 0;
    call.on('data', (message: Buffer) => {
      if (message.length === MESSAGE) messages++;
      // A slow reader, not a stalled one: the client takes its next message 10 ms later.
      call.pause();
      setTimeout(() => call.resume(), 10);
    });
    // grpc-js emits 'status' while messages may still wait in the paused stream: 'end' too.
    const ended = new Promise((resolve) => call.on('end', resolve));
    const final = new Promise<{ code: number; details: string }>((resolve) =>
      call.on('status', resolve),
    );
    call.on('error', () => undefined); // the status says it
    return Promise.all([final, ended]).then(([{ code, details }]) => ({ code, details, messages }));
  }

  it('10 streams of 2 MiB on one connection, each read slowly: every call completes', async () => {
    const outcomes = (
      await Promise.all(
        Array.from({ length: CALLERS }, async () => {
          const mine = [];
          for (let i = 0; i < CALLS_EACH; i++) mine.push(await slowCall());
          return mine;
        }),
      )
    ).flat();
    const failed = outcomes.filter((outcome) => outcome.code !== status.OK);
    expect(failed).toEqual([]);
    expect(outcomes).toHaveLength(CALLERS * CALLS_EACH);
    expect(outcomes.every((outcome) => outcome.messages === MESSAGES)).toBe(true);
    expect(h.backend.seen).toHaveLength(CALLERS * CALLS_EACH);
    expect(h.reports.map((report) => report.code)).toEqual(
      Array.from({ length: CALLERS * CALLS_EACH }, () => status.OK),
    );
  });
});
