// Run inside a project that installed only @grpc-proxy/codec: frames two messages and reads them back.
const assert = require('node:assert/strict');
const { Buffer } = require('node:buffer');
const { encodeMessage, MessageDecoder, MessageFramingError } = require('@grpc-proxy/codec');

const stream = Buffer.concat([
  encodeMessage(Buffer.from('one')),
  encodeMessage(Buffer.from('two')),
]);
const decoder = new MessageDecoder();
const payloads = [...decoder.push(stream.subarray(0, 4)), ...decoder.push(stream.subarray(4))];
assert.deepEqual(
  payloads.map(({ payload }) => payload.toString()),
  ['one', 'two'],
);
decoder.end();
assert.equal(new MessageFramingError('TRUNCATED_PREFIX', 'x').name, 'MessageFramingError');
