import { codecWithParent, fromTsProto, RawFrame } from '@grpc-proxy/codec';
// Any ts-proto generated message type; this one is the package's test fixture.
import { Greeting } from '../src/test-support/gen/grpc_proxy/codec/sample/v1/sample';

/** Raw frames pass through untouched; messages go to the parent codec, decoded on demand. */
export function codecWithParentExample(): string[] {
  // fromTsProto adapts ts-proto's encode/decode; any { serialize, deserialize } is a parent too,
  // and codecWithParent(Greeting) adapts it by itself.
  const codec = codecWithParent(fromTsProto(Greeting));

  const bytes = codec.serialize({ text: 'hello', count: 2, blob: Buffer.alloc(0), tags: ['a'] });
  const frame = codec.deserialize(bytes); // a RawFrame: nothing parsed yet
  const forwarded = codec.serialize(frame); // the very same Buffer, never parsed

  const greeting = frame.decode(); // parsed by the parent, only now
  const foreign = new RawFrame(Buffer.from([0x0a, 0x02, 0x68, 0x69])); // made without a parent
  return [
    `forwarded untouched: ${forwarded === bytes}`, // true
    `decoded: ${greeting.text} x${greeting.count}`, // hello x2
    `decodeFrame: ${codec.decodeFrame(foreign).text}`, // hi
    `isRawFrame: ${RawFrame.isRawFrame(frame)}`, // true
  ];
}

if (require.main === module) console.log(codecWithParentExample().join('\n'));
