import fc from 'fast-check';
import { cutOff, splitAt } from '@grpc-proxy/testing';
import { MessageFramingError } from './framing-error';
import { MessageDecoder } from './message-decoder';
import { cuts, encodeAll, messages, someMessages } from './test-support/framing-arbitraries';

describe('MessageDecoder properties', () => {
  it('decodes any list of messages, split at any points, to the same list with the same flags', () => {
    fc.assert(
      fc.property(messages, cuts, (list, offsets) => {
        const decoder = new MessageDecoder();
        const decoded = splitAt(encodeAll(list), offsets).flatMap((chunk) => decoder.push(chunk));
        decoder.end();
        expect(
          decoded.map((m) => ({ payload: new Uint8Array(m.payload), compressed: m.compressed })),
        ).toEqual(
          list.map(({ payload, compressed }) => ({ payload: new Uint8Array(payload), compressed })),
        );
        expect(decoder.bufferedLength).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('fails with a truncation error for any stream cut inside a message', () => {
    fc.assert(
      fc.property(someMessages, fc.nat(), cuts, (list, seed, offsets) => {
        const { head, betweenMessages } = cutOff(encodeAll(list), seed);
        fc.pre(!betweenMessages);
        const decoder = new MessageDecoder();
        for (const chunk of splitAt(head, offsets)) decoder.push(chunk);
        let code: string | undefined;
        try {
          decoder.end();
        } catch (error) {
          code = (error as MessageFramingError).code;
        }
        expect(['TRUNCATED_PREFIX', 'TRUNCATED_MESSAGE']).toContain(code);
      }),
      { numRuns: 300 },
    );
  });
});
