import fc from 'fast-check';
import { encodeMessage } from '../message-encoder';

/** One message before framing. */
export interface Message {
  payload: Uint8Array;
  compressed: boolean;
}

/** Any payload of up to 300 bytes, either flag. */
export const message: fc.Arbitrary<Message> = fc.record({
  payload: fc.uint8Array({ minLength: 0, maxLength: 300 }),
  compressed: fc.boolean(),
});
/** Up to 20 messages, possibly none. */
export const messages = fc.array(message, { maxLength: 20 });
/** 1 to 10 messages, for streams that can be cut inside one. */
export const someMessages = fc.array(message, { minLength: 1, maxLength: 10 });
/** Up to 30 cut points for `splitAt` (which wraps them into the stream's length). */
export const cuts = fc.array(fc.nat({ max: 8000 }), { maxLength: 30 });

/** The messages framed one after the other, as they travel on the wire. */
export function encodeAll(list: readonly Message[]): Buffer {
  return Buffer.concat(
    list.map(({ payload, compressed }) => encodeMessage(payload, { compressed })),
  );
}
