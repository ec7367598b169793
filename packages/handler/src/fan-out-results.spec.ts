import { Metadata, status } from '@grpc/grpc-js';
import type { FanOut, FanOutBackend } from './contracts';
import { checkFanOut, isFanOutBackend } from './fan-out';
import { FanOutResults, type FanOutLegEnd, type FanOutSink } from './fan-out-results';
import { ProxyStatusError } from './status-error';

type Event = [string, ...unknown[]];

function results(
  fanOut: Omit<FanOut, 'backends'>,
  names = ['a', 'b', 'c'],
  limit = 1000,
): { results: FanOutResults<string>; events: Event[] } {
  const events: Event[] = [];
  const sink: FanOutSink<string> = {
    toClient: (message) => events.push(['message', message.toString()]),
    endOk: (trailers) => events.push(['ok', ...trailers]),
    endWithFailure: (leg, end) => events.push(['failure', leg, end.code, end.details]),
    fail: (code, details) => events.push(['fail', code, details]),
    reject: (final) => events.push(['reject', final.code, final.details]),
    metadataOf: (trailers) => {
      const metadata = new Metadata();
      metadata.set('trailer', trailers);
      return metadata;
    },
  };
  const backend: FanOutBackend = {
    name: 'fan',
    fanOut: { ...fanOut, backends: names.map((target) => ({ target })) },
  };
  return { results: new FanOutResults(checkFanOut(backend), names, sink, limit), events };
}

const ok = (trailers: string): FanOutLegEnd<string> => ({
  code: status.OK,
  details: '',
  trailers,
  proxyError: false,
});
const failed = (code: status, details: string): FanOutLegEnd<string> => ({
  code,
  details,
  trailers: `t-${details}`,
  proxyError: false,
});

describe('FanOutResults', () => {
  it('streams messages as they arrive and ends OK with every trailers set in backend order', () => {
    const { results: r, events } = results({ responses: 'stream' });
    r.message(1, Buffer.from('b1'));
    r.message(0, Buffer.from('a1'));
    r.legEnded(2, ok('tc'));
    r.message(1, Buffer.from('b2'));
    r.legEnded(1, ok('tb'));
    r.legEnded(0, ok('ta'));
    expect(events).toEqual([
      ['message', 'b1'],
      ['message', 'a1'],
      ['message', 'b2'],
      ['ok', 'ta', 'tb', 'tc'],
    ]);
    expect(r.outcomes({ code: status.CANCELLED, details: 'x' }).map((o) => o.messages)).toEqual([
      1, 2, 0,
    ]);
  });

  it('merges by concatenation in backend order, not arrival order', () => {
    const { results: r, events } = results({ responses: 'merge' });
    r.message(2, Buffer.from('C'));
    r.legEnded(2, ok('tc'));
    r.message(0, Buffer.from('A'));
    r.legEnded(0, ok('ta'));
    r.legEnded(1, ok('tb'));
    expect(events).toEqual([
      ['message', 'AC'],
      ['ok', 'ta', 'tb', 'tc'],
    ]);
  });

  it('merges with a user function given the responses in backend order', () => {
    const merge = jest.fn((parts: readonly Buffer[]) => Buffer.from(parts.join('+')));
    const { results: r, events } = results({ responses: 'merge', merge }, ['a', 'b']);
    r.message(1, Buffer.from('B'));
    r.message(0, Buffer.from('A'));
    r.legEnded(1, ok('tb'));
    r.legEnded(0, ok('ta'));
    expect(merge).toHaveBeenCalledTimes(1);
    expect(events).toEqual([
      ['message', 'A+B'],
      ['ok', 'ta', 'tb'],
    ]);
  });

  it('ends with the first failure by default and ignores what comes after', () => {
    const { results: r, events } = results({ responses: 'stream' });
    r.message(0, Buffer.from('a1'));
    r.legEnded(1, failed(status.NOT_FOUND, 'nope'));
    r.message(0, Buffer.from('a2'));
    r.legEnded(0, ok('ta'));
    expect(events).toEqual([
      ['message', 'a1'],
      ['failure', 1, status.NOT_FOUND, 'nope'],
    ]);
    expect(r.ended).toBe(true);
    expect(r.outcomes({ code: status.CANCELLED, details: 'cut' })).toEqual([
      { backend: 'a', code: status.OK, details: '', proxyError: false, messages: 1 },
      { backend: 'b', code: status.NOT_FOUND, details: 'nope', proxyError: false, messages: 0 },
      { backend: 'c', code: status.CANCELLED, details: 'cut', proxyError: true, messages: 0 },
    ]);
  });

  it('skips failed backends, and ends with the first failure when none succeeded', () => {
    const some = results({ responses: 'merge', onError: 'skip' }, ['a', 'b']);
    some.results.message(0, Buffer.from('A'));
    some.results.legEnded(1, failed(status.INTERNAL, 'boom'));
    some.results.legEnded(0, ok('ta'));
    expect(some.events).toEqual([
      ['message', 'A'],
      ['ok', 'ta'],
    ]);
    const none = results({ responses: 'stream', onError: 'skip' }, ['a', 'b']);
    none.results.legEnded(1, failed(status.INTERNAL, 'first'));
    none.results.legEnded(0, failed(status.UNAVAILABLE, 'second'));
    expect(none.events).toEqual([['failure', 1, status.INTERNAL, 'first']]);
  });

  it('turns failures into messages with a user function, in place when merging', () => {
    const onError = jest.fn(({ backend, metadata }: { backend: string; metadata: Metadata }) =>
      backend === 'b' ? Buffer.from(`E(${String(metadata.get('trailer')[0])})`) : null,
    );
    const { results: r, events } = results({ responses: 'merge', onError });
    r.message(2, Buffer.from('C'));
    r.legEnded(1, failed(status.INTERNAL, 'x'));
    r.legEnded(0, failed(status.INTERNAL, 'y'));
    r.legEnded(2, ok('tc'));
    expect(onError).toHaveBeenCalledTimes(2);
    expect(events).toEqual([
      ['message', 'E(t-x)C'],
      ['ok', 'tc'],
    ]);
  });

  it('ends OK on failure messages alone, and gives a thrown status error exactly', () => {
    const only = results({ responses: 'stream', onError: () => Buffer.from('e') }, ['a']);
    only.results.legEnded(0, failed(status.INTERNAL, 'x'));
    expect(only.events).toEqual([['message', 'e'], ['ok']]);
    const thrown = results(
      {
        responses: 'stream',
        onError: () => {
          throw new ProxyStatusError(status.ABORTED, 'stop here');
        },
      },
      ['a', 'b'],
    );
    thrown.results.legEnded(0, failed(status.INTERNAL, 'x'));
    thrown.results.legEnded(1, ok('tb'));
    expect(thrown.events).toEqual([['reject', status.ABORTED, 'stop here']]);
  });

  it('fails RESOURCE_EXHAUSTED when what is held for the merge outgrows the send limit', () => {
    const { results: r, events } = results({ responses: 'merge' }, ['a', 'b'], 10);
    r.message(0, Buffer.alloc(6));
    r.message(1, Buffer.alloc(6));
    r.legEnded(0, ok('ta'));
    r.legEnded(1, ok('tb'));
    expect(events).toEqual([
      [
        'fail',
        status.RESOURCE_EXHAUSTED,
        'fan-out responses to merge are 12 bytes, more than maxSendMessageLength (10)',
      ],
    ]);
  });

  it('fails INTERNAL when merge throws or returns no Buffer', () => {
    const { results: r, events } = results(
      { responses: 'merge', merge: () => 'nope' as unknown as Buffer },
      ['a'],
    );
    r.message(0, Buffer.from('A'));
    r.legEnded(0, ok('ta'));
    expect(events).toEqual([['fail', status.INTERNAL, 'fan-out merge returned no Buffer']]);
  });
});

describe('checkFanOut', () => {
  const check = (fanOut: unknown) => () =>
    checkFanOut({ name: 'fan', fanOut } as unknown as FanOutBackend);

  it('defaults onError to first-error', () => {
    expect(
      checkFanOut({ name: 'f', fanOut: { backends: [{ target: 'x:1' }], responses: 'stream' } }),
    ).toMatchObject({ onError: 'first-error', responses: 'stream' });
  });

  it('rejects what is no fan-out, saying why', () => {
    expect(check({ backends: [], responses: 'stream' })).toThrow(
      new TypeError('fan-out fan needs at least one backend'),
    );
    expect(check({ backends: [null], responses: 'stream' })).toThrow(
      new TypeError('fan-out fan: backend 0 is null, not a backend'),
    );
    expect(
      check({ backends: [{ name: 'x', fanOut: { backends: [] } }], responses: 'stream' }),
    ).toThrow(new TypeError('fan-out fan: backend 0 is a fan-out; fan-outs do not nest'));
    expect(check({ backends: [{ target: 'x:1' }] })).toThrow(
      new TypeError("fan-out fan: responses must be 'stream' or 'merge', got undefined"),
    );
    expect(check({ backends: [{ target: 'x:1' }], responses: 'merge', onError: 'last' })).toThrow(
      new TypeError("fan-out fan: onError must be 'first-error', 'skip' or a function, got last"),
    );
  });

  it('recognises fan-out backends', () => {
    expect(isFanOutBackend({ name: 'f', fanOut: { backends: [], responses: 'stream' } })).toBe(
      true,
    );
    expect(isFanOutBackend({ target: 'x:1' })).toBe(false);
    expect(isFanOutBackend(null)).toBe(false);
  });
});
