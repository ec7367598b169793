'use strict';
/**
 * The built-in grpc-js load generator, always run as its own process.
 *
 * Usage: node grpc-loadgen.js '<json options>', options.mode one of:
 * - `unary`  { target, payload, concurrency, warmupMs, durationMs }: closed-loop unary calls.
 * - `stream` { target, payload, window, warmupMs, durationMs }: one bidi stream, `window`
 *   messages in flight; each echo received sends the next. Latency is send-to-echo.
 * - `idle`   { target, streams }: opens `streams` bidi streams, echoes one message on each, prints
 *   `OPEN <ms>`, then holds them until stdin closes or says anything, then ends them.
 * - `check`  { target }: 1 KiB and 64 KiB unary calls and a 3-message stream, bytes compared.
 * Every mode prints `RESULT <json>` last. Every wait is bounded by a deadline. On SIGTERM it
 * starts no new call, cancels its streams and ends with exit code 0.
 */
const grpc = require('@grpc/grpc-js');
const { runClosedLoop, startWindow } = require('../src/closed-loop');
const { patternPayload } = require('@grpc-proxy/testing');
const { echoServiceDefinition, unlimitedMessages } = require('../src/bench-service');

const { Unary, Stream } = echoServiceDefinition;

const CALL_DEADLINE_MS = 10_000;
/** How long a stream may take to return its last messages after the window before it counts as stalled. */
const STREAM_DRAIN_MS = 3_000;

/**
 * Aborted on SIGTERM: no new call starts, the open streams are cancelled, and the process ends
 * with exit code 0 once the calls in flight have ended (each has a deadline).
 */
const stopping = new AbortController();
/** Every bidi stream not yet ended, so that a stop can cancel them. */
const openStreams = new Set();

function connect(target) {
  // Same client options for every row; retries and channelz off keep the generator light.
  return new grpc.Client(target, grpc.credentials.createInsecure(), {
    ...unlimitedMessages,
    'grpc.enable_channelz': 0,
    'grpc.enable_retries': 0,
  });
}

function unary(client, payload) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + CALL_DEADLINE_MS;
    client.makeUnaryRequest(
      Unary.path,
      Unary.requestSerialize,
      Unary.responseDeserialize,
      payload,
      { deadline },
      (error, reply) => {
        if (error) reject(error);
        else if (reply.length !== payload.length)
          reject(new Error(`echo of ${reply.length} bytes`));
        else resolve(reply);
      },
    );
  });
}

/** Opens a bidi stream of the echo service with a deadline `deadlineMs` from now. */
function openStream(client, deadlineMs) {
  const call = client.makeBidiStreamRequest(
    Stream.path,
    Stream.requestSerialize,
    Stream.responseDeserialize,
    {
      deadline: Date.now() + deadlineMs,
    },
  );
  openStreams.add(call);
  call.on('status', () => openStreams.delete(call));
  return call;
}

async function runUnary(client, options) {
  const payload = patternPayload(options.payload);
  return runClosedLoop({
    ...options,
    callOnce: () => unary(client, payload),
    signal: stopping.signal,
  });
}

/** One bidi stream with a fixed window of messages in flight (see the file comment). */
function runStream(client, options) {
  const payload = patternPayload(options.payload);
  const window = startWindow(options.warmupMs, options.durationMs);
  const call = openStream(client, options.warmupMs + options.durationMs + STREAM_DRAIN_MS);
  const sentAt = [];
  let head = 0;
  let inFlight = 0;
  let messages = 0;
  let errors = 0;
  let firstError;
  const latencies = [];
  const send = () => {
    sentAt.push(performance.now());
    inFlight++;
    call.write(payload);
  };
  return new Promise((resolve) => {
    call.on('data', (message) => {
      const now = performance.now();
      const sent = sentAt[head++];
      inFlight--;
      if (head > 65536) {
        sentAt.splice(0, head);
        head = 0;
      }
      if (message.length !== payload.length) {
        errors++;
        firstError ??= `echo of ${message.length} bytes`;
      }
      if (now >= window.start && now <= window.end) messages++;
      if (sent >= window.start && now <= window.end) latencies.push(now - sent);
      if (now < window.end && !stopping.signal.aborted) send();
      else if (inFlight === 0) call.end();
    });
    call.on('error', (error) => {
      errors++;
      firstError ??=
        error.code === grpc.status.DEADLINE_EXCEEDED && inFlight > 0
          ? `stalled: ${inFlight} of ${options.window} messages unanswered ${STREAM_DRAIN_MS} ms after the window`
          : error.message;
    });
    call.on('status', () =>
      resolve(window.result({ calls: messages, latencies, errors, firstError })),
    );
    for (let i = 0; i < options.window; i++) send();
  });
}

/** Opens many streams, proves each is live end to end, then holds them (see file comment). */
async function runIdle(client, options) {
  const payload = patternPayload(16);
  const started = performance.now();
  const calls = [];
  const echoed = [];
  for (let i = 0; i < options.streams; i++) {
    const call = openStream(client, 120_000);
    const closed = new Promise((resolve) => call.on('status', resolve));
    call.on('error', () => {});
    echoed.push(
      new Promise((resolve, reject) => {
        call.once('data', resolve);
        call.once('error', reject);
      }),
    );
    calls.push({ call, closed });
    call.write(payload);
  }
  await withTimeout(Promise.all(echoed), 15_000, 'streams did not all echo');
  const openMs = performance.now() - started;
  console.log(`OPEN ${openMs.toFixed(1)}`);
  await new Promise((resolve) => {
    if (stopping.signal.aborted) return resolve();
    stopping.signal.addEventListener('abort', resolve, { once: true });
    process.stdin.once('data', resolve);
    process.stdin.once('end', resolve);
    process.stdin.resume();
  });
  process.stdin.destroy();
  for (const { call } of calls) call.end();
  const statuses = await withTimeout(Promise.all(calls.map((c) => c.closed)), 15_000, 'close');
  const failed = statuses.filter((s) => s.code !== grpc.status.OK);
  return {
    streams: options.streams,
    openMs,
    errors: failed.length,
    firstError: failed[0]?.details,
  };
}

async function runCheck(client) {
  for (const size of [1024, 64 * 1024]) {
    const payload = patternPayload(size);
    const reply = await unary(client, payload);
    if (!reply.equals(payload)) throw new Error(`unary echo of ${size} bytes differs`);
  }
  // Small stream messages: the 64 KiB stream workload itself shows peers that stall on big ones.
  const message = patternPayload(1024);
  const call = openStream(client, CALL_DEADLINE_MS);
  const received = [];
  call.on('data', (m) => received.push(m));
  const status = new Promise((resolve) => call.on('status', resolve));
  call.on('error', () => {});
  for (let i = 0; i < 3; i++) call.write(message);
  call.end();
  const { code, details } = await status;
  if (code !== grpc.status.OK) throw new Error(`stream status ${code}: ${details}`);
  if (received.length !== 3 || !received.every((m) => m.equals(message))) {
    throw new Error(`stream echoed ${received.length} messages, expected 3 equal ones`);
  }
  return { ok: true };
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const modes = { unary: runUnary, stream: runStream, idle: runIdle, check: runCheck };

/** The generator's one channel, once the options name its target. */
let client;

async function main() {
  const options = JSON.parse(process.argv[2]);
  const run = modes[options.mode];
  if (!run) throw new Error(`unknown mode ${options.mode}`);
  client = connect(options.target);
  const result = await run(client, options);
  console.log(`RESULT ${JSON.stringify(result)}`);
}

/** Cancels the streams still open (a failed or stopped run may leave some) and closes the channel. */
function release() {
  for (const call of openStreams) call.cancel();
  client?.close();
}

process.once('SIGTERM', () => {
  stopping.abort();
  release();
});

main()
  .catch((error) => {
    console.log(
      `RESULT ${JSON.stringify({ errors: 1, firstError: String(error.message ?? error) })}`,
    );
    // A run stopped on purpose fails as a consequence: its exit code stays 0.
    if (!stopping.signal.aborted) process.exitCode = 1;
  })
  .finally(release);
