import {
  encodeMessage,
  encodeMessagePrefix,
  MessageDecoder,
  MessageFramingError,
} from '@grpc-proxy/codec';

/** Frames messages the way gRPC puts them on the wire, and decodes a stream split anywhere. */
export function framingExample(): string[] {
  const payload = Buffer.from('second');
  const stream = Buffer.concat([
    encodeMessage(Buffer.from('first')), // prefix + copy of the payload, in one fresh Buffer
    encodeMessagePrefix(payload.length, { compressed: true }), // just the 5 bytes, for writev
    payload,
  ]);

  const decoder = new MessageDecoder({ maxMessageLength: 1024 }); // default: 64 MiB
  const messages = [...decoder.push(stream.subarray(0, 7)), ...decoder.push(stream.subarray(7))];
  decoder.end(); // throws if the stream stopped inside a message
  const lines = messages.map(
    ({ compressed, payload: bytes }) => `${bytes.toString()}${compressed ? ' (compressed)' : ''}`,
  );

  const truncated = new MessageDecoder();
  try {
    truncated.push(Buffer.from([0, 0, 0, 0, 9, 1, 2])); // announces 9 bytes, sends 2
    truncated.end();
  } catch (error) {
    if (!(error instanceof MessageFramingError)) throw error;
    lines.push(`${error.code}: ${error.message}`);
  }
  return lines;
  // [ 'first', 'second (compressed)',
  //   'TRUNCATED_MESSAGE: stream ended inside a gRPC message: got 2 of 9 payload bytes' ]
}

if (require.main === module) console.log(framingExample().join('\n'));
