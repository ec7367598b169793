/**
 * An http2 proxy for the mirror specs: the observer's mirror and call reports, and a way to wait
 * for the n-th of each (an event, not a poll).
 */
import { EventEmitter } from 'node:events';
import type { CallReport, MirrorReport, StreamDirector } from '@grpc-proxy/handler';
import type { Http2ProxyOptions } from '../options';
import { startHttp2Proxy, type RunningProxy } from './proxy';
import { waitFor } from './wait';

export interface MirrorProxy extends RunningProxy {
  /** Every `onMirrorEnd` report, in order. */
  readonly mirrors: MirrorReport[];
  /** Every `onCallEnd` report, in order. */
  readonly calls: CallReport[];
  /** Resolves once `count` copies have been reported. */
  mirrorEnds(count: number): Promise<MirrorReport[]>;
  /** Resolves once `count` calls have been reported. */
  callEnds(count: number): Promise<CallReport[]>;
}

/** Starts the http2 engine on 127.0.0.1:0 with `director`, recording its observer's reports. */
export async function startMirrorProxy(
  director: StreamDirector,
  options: Omit<Http2ProxyOptions, 'director' | 'observer'> = {},
): Promise<MirrorProxy> {
  const events = new EventEmitter();
  const mirrors: MirrorReport[] = [];
  const calls: CallReport[] = [];
  const running = await startHttp2Proxy(director, {
    ...options,
    observer: {
      onMirrorEnd: (report) => {
        mirrors.push(report);
        events.emit('report');
      },
      onCallEnd: (report) => {
        calls.push(report);
        events.emit('report');
      },
    },
  });
  const reached = <T>(list: T[], count: number, what: string): Promise<T[]> =>
    waitFor(
      events,
      'report',
      () => list.length >= count,
      () => `${count} ${what} reports, got ${list.length}`,
    ).then(() => list);
  return {
    ...running,
    mirrors,
    calls,
    mirrorEnds: (count) => reached(mirrors, count, 'mirror'),
    callEnds: (count) => reached(calls, count, 'call'),
  };
}
