import { setTimeout as delay } from 'node:timers/promises';
import { status as Status } from '@grpc/grpc-js';
import type { StatusObject } from '@grpc/grpc-js';
import { callRawBidi, echoRequest } from '../client-calls';
import { OPAQUE_ECHO_METHOD } from '../opaque-echo';
import { patternPayload } from '../payload';
import { expectBytes, expectEqual, expectStatus, fail, within } from './check';
import { defineCase } from './define-case';

/** Messages gRPC carries that are not protobuf, or not valid protobuf. */
const OPAQUE_MESSAGES: ReadonlyArray<readonly [string, Buffer]> = [
  ['JSON', Buffer.from('{"kind":"json","n":[1,2,3]}')],
  ['a varint that never ends', Buffer.alloc(12, 0xff)],
  ['a length-delimited field cut short', Buffer.from([0x0a, 0x10, 0x61])],
  ['an empty message', Buffer.alloc(0)],
  ['every byte value', Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i))],
];

export const opaquePayload = defineCase(
  'opaque_payload',
  'Messages that are not protobuf (JSON, invalid varints, truncated fields, empty, every byte ' +
    'value) pass untouched both ways: gRPC carries JSON, FlatBuffers and any other bytes.',
  async (context) => {
    const call = context.tag();
    const outcome = await callRawBidi(
      context.client,
      OPAQUE_ECHO_METHOD,
      OPAQUE_MESSAGES.map(([, bytes]) => bytes),
      call,
    );
    expectStatus('status', outcome.status, Status.OK);
    const record = await call.backendRecord('the finished call', (c) => c.ended);
    expectEqual('messages the backend received', record.requests.length, OPAQUE_MESSAGES.length);
    expectEqual('messages the client received', outcome.responses.length, OPAQUE_MESSAGES.length);
    OPAQUE_MESSAGES.forEach(([what, bytes], i) => {
      expectBytes(`${what} at the backend`, record.requests[i].payload, bytes);
      expectBytes(`${what} back at the client`, outcome.responses[i], bytes);
    });
  },
);

const MIB = 1024 * 1024;
const SLOW_READER_MESSAGES = 64;
/** How long the slow reader leaves each message before it reads the next. */
const READ_PAUSE_MS = 10;

export const slowReaderGets64MiB = defineCase(
  'slow_reader_gets_64_mib',
  `A 64 MiB server stream (${SLOW_READER_MESSAGES} messages of 1 MiB) to a client that ` +
    `pauses ${READ_PAUSE_MS} ms after each message completes intact and in order: flow control ` +
    'holds the backend back, nothing is dropped or cut short.',
  async (context) => {
    const call = context.tag(Date.now() + 120_000);
    const expected = patternPayload(MIB);
    const stream = context.client.serverStream(
      echoRequest({ responseCount: SLOW_READER_MESSAGES, responseSize: MIB }),
      call.metadata,
      call.options,
    );
    const problems: string[] = [];
    let received = 0;
    stream.on('data', (response: { payload: Buffer; index: number }) => {
      if (response.index !== received || !response.payload.equals(expected)) {
        problems.push(`message ${received} arrived as index ${response.index}, or not intact`);
      }
      received++;
      stream.pause();
      // The slow reader: each pause leaves the stream's window full for a while.
      void delay(READ_PAUSE_MS).then(() => stream.resume());
    });
    stream.on('error', () => undefined); // the status carries the error
    // grpc-js reports the status while paused messages are still queued: wait for both.
    const ended = new Promise<void>((resolve) => stream.on('end', resolve));
    const status = await within(
      'the end of the 64 MiB stream',
      110_000,
      new Promise<StatusObject>((resolve) => stream.on('status', resolve)),
    );
    if (status.code === Status.OK) {
      await within('the last messages after the status', context.stepTimeoutMs, ended);
    }
    expectStatus('status', status, Status.OK);
    if (problems.length > 0) fail(problems[0]);
    expectEqual('messages received before the OK status', received, SLOW_READER_MESSAGES);
  },
  { timeoutMs: 150_000 },
);
