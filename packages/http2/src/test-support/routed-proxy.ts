/**
 * Two backends `a` and `b` (director's `createBackend`, passive health on) behind `roundRobin`,
 * an http2 proxy routing by it, and what the tests count: the director's asks, each route's
 * release, the observer's reports and the backends' health changes.
 */
import { EventEmitter } from 'node:events';
import { Client, credentials, type status } from '@grpc/grpc-js';
import { createBackend, roundRobin, type OwnedBackend } from '@grpc-proxy/director';
import type { CallReport, Route } from '@grpc-proxy/handler';
import type { Http2ProxyOptions } from '../options';
import { startHttp2Proxy, type RunningProxy } from './proxy';
import { waitFor } from './wait';

/** One route's release: the backend it named and the status it was given back with. */
export interface Release {
  readonly backend: string;
  readonly code: status;
  readonly details: string;
}

/** A passive-health transition of a backend. */
export interface HealthChange {
  readonly backend: string;
  readonly available: boolean;
  readonly error: string | undefined;
}

export interface RoutedProxy {
  readonly proxy: RunningProxy;
  readonly client: Client;
  readonly a: OwnedBackend;
  readonly b: OwnedBackend;
  /** How many times the director was asked. */
  readonly asks: { count: number };
  readonly releases: Release[];
  readonly reports: CallReport[];
  readonly health: HealthChange[];
  /** Resolves once `predicate` holds, checked on each report and health change (bounded). */
  until(predicate: () => boolean, what: string, timeoutMs?: number): Promise<void>;
}

/**
 * Registers afterEach closing what `start` made; `start(targets)` runs the proxy in front of
 * `a` and `b`.
 */
export function useRoutedProxy(): {
  start(
    targets: { a: string; b: string },
    options?: Omit<Http2ProxyOptions, 'director' | 'observer'>,
  ): Promise<RoutedProxy>;
} {
  let run: RoutedProxy | undefined;
  afterEach(async () => {
    run?.client.close();
    await run?.proxy.close();
    run?.a.close();
    run?.b.close();
    run = undefined;
  });
  return {
    start: async (targets, options = {}) => {
      const events = new EventEmitter();
      const health: HealthChange[] = [];
      const backend = (name: string, target: string): OwnedBackend =>
        createBackend(target, {
          name,
          onHealthChange: (available, error) => {
            health.push({ backend: name, available, error: error?.message });
            events.emit('change');
          },
        });
      const a = backend('a', targets.a);
      const b = backend('b', targets.b);
      const rotation = roundRobin([a, b]);
      const asks = { count: 0 };
      const releases: Release[] = [];
      const reports: CallReport[] = [];
      const proxy = await startHttp2Proxy(
        (call) => {
          asks.count++;
          const route = rotation(call) as Route; // backends: answered synchronously
          const name = (route.backend as OwnedBackend).name;
          return {
            ...route,
            release: ({ code, details }) => releases.push({ backend: name, code, details }),
          };
        },
        {
          ...options,
          observer: {
            onCallEnd: (report) => {
              reports.push(report);
              events.emit('change');
            },
          },
        },
      );
      const until = (predicate: () => boolean, what: string, timeoutMs?: number) =>
        waitFor(events, 'change', predicate, () => what, timeoutMs);
      run = {
        proxy,
        client: new Client(proxy.address, credentials.createInsecure()),
        a,
        b,
        asks,
        releases,
        reports,
        health,
        until,
      };
      return run;
    },
  };
}
