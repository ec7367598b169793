import { codecWithParent, RawFrame } from '@grpc-proxy/codec';

interface Greeting {
  text: string;
  count: number;
}

// Any { serialize, deserialize } is a parent; JSON keeps this example self-contained.
const greetingJson = {
  serialize: (message: Greeting): Uint8Array => Buffer.from(JSON.stringify(message)),
  deserialize: (bytes: Buffer): Greeting => JSON.parse(bytes.toString('utf8')) as Greeting,
};

/** Raw frames pass through untouched; messages go to the parent codec, decoded on demand. */
export function codecWithParentExample(): string[] {
  // For a ts-proto generated message type, pass it as it is: codecWithParent(Greeting)
  // (or codecWithParent(fromTsProto(Greeting)), the same adapter made explicit).
  const codec = codecWithParent(greetingJson);

  const bytes = codec.serialize({ text: 'hello', count: 2 });
  const frame = codec.deserialize(bytes); // a RawFrame: nothing parsed yet
  const forwarded = codec.serialize(frame); // the very same Buffer, never parsed

  const greeting = frame.decode(); // parsed by the parent, only now
  const foreign = new RawFrame(Buffer.from('{"text":"hi","count":1}')); // made without a parent
  return [
    `forwarded untouched: ${forwarded === bytes}`, // true
    `decoded: ${greeting.text} x${greeting.count}`, // hello x2
    `decodeFrame: ${codec.decodeFrame(foreign).text}`, // hi
    `isRawFrame: ${RawFrame.isRawFrame(frame)}`, // true
  ];
}

if (require.main === module) console.log(codecWithParentExample().join('\n'));
