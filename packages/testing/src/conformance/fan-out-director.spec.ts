import { Metadata } from '@grpc/grpc-js';
import { EchoResponse } from '../gen/grpc_proxy/testing/v1/echo';
import { fanOutCases, selectFanOutCases } from './describe-fan-out-conformance';
import {
  FAILING_STATUS,
  FAN_OUT_NAME,
  failureMessage,
  fanOutDirector,
  mergeNames,
  planEntry,
} from './fan-out-director';

const members = { a: 'A', b: 'B', c: 'C', fail: 'F', refused: 'R' };

function callWith(plan: Parameters<typeof planEntry>[0]): { metadata: Metadata } {
  const metadata = new Metadata();
  metadata.set(...planEntry(plan));
  return { metadata };
}

describe('fanOutDirector', () => {
  it('fans a call out as its plan says, in the plan’s order', () => {
    const route = fanOutDirector(members)(
      callWith({ backends: ['c', 'fail'], responses: 'merge' }),
    );
    expect(route).toEqual({
      backend: { name: FAN_OUT_NAME, fanOut: { backends: ['C', 'F'], responses: 'merge' } },
    });
  });

  it('gives the onError and merge functions the plan names', () => {
    const director = fanOutDirector(members);
    const plan = { backends: ['a'], responses: 'merge', merge: 'names' } as const;
    const message = director(callWith({ ...plan, onError: 'message' })).backend.fanOut;
    expect(message).toMatchObject({ onError: failureMessage, merge: mergeNames });
    const dropped = director(callWith({ ...plan, onError: 'null' })).backend.fanOut.onError;
    expect(typeof dropped === 'function' && dropped(failure())).toBeNull();
    expect(director(callWith({ ...plan, onError: 'skip' })).backend.fanOut.onError).toBe('skip');
  });
});

function failure() {
  const metadata = new Metadata();
  metadata.set(FAILING_STATUS.trailerKey, FAILING_STATUS.trailerValue);
  return { backend: 'F', index: 2, code: 5, details: 'gone', metadata };
}

describe('the fan-out messages', () => {
  it('failureMessage says the index, code, message and trailer of the failure', () => {
    const decoded = EchoResponse.decode(failureMessage(failure()));
    expect(decoded.serverName).toBe('failed:2');
    expect(decoded.requestMetadata.map((entry) => [entry.key, entry.value])).toEqual([
      ['fan-out-failure', '5 gone by design'],
    ]);
  });

  it('mergeNames joins the server names and concatenates the payloads, in order', () => {
    const encode = (serverName: string, payload: string) =>
      Buffer.from(
        EchoResponse.encode({
          ...EchoResponse.fromPartial({ serverName }),
          payload: Buffer.from(payload),
        }).finish(),
      );
    const merged = EchoResponse.decode(mergeNames([encode('x', '1'), encode('y', '22')]));
    expect([merged.serverName, merged.payload.toString()]).toEqual(['x+y', '122']);
  });
});

describe('selectFanOutCases', () => {
  it('has eleven cases, all selected by default, and refuses unknown names', () => {
    expect(selectFanOutCases({})).toEqual(fanOutCases);
    expect(fanOutCases).toHaveLength(11);
    expect(
      selectFanOutCases({ only: ['fan_out_skip', 'fan_out_bidi'] }).map((c) => c.name),
    ).toEqual(['fan_out_bidi', 'fan_out_skip']);
    expect(() => selectFanOutCases({ skip: ['fan_out_skp'] })).toThrow(
      /^unknown fan-out case "fan_out_skp"; known: fan_out_server_stream, /,
    );
  });
});
