/**
 * A jest harness: a test backend, a proxy in front of it (createProxyServer), a raw client of the
 * proxy, and records of what the observer and `release` heard. Everything is closed after each test.
 */
import type { Client, StatusObject } from '@grpc/grpc-js';
import { createBackendClient } from '../backend-client';
import type { CallReport, Route, StreamDirector } from '../contracts';
import type { ProxyHandlerOptions } from '../options';
import { rawClient, type RunningServer } from './grpc-fixtures';
import { startProxy } from './proxy-fixture';
import { startTestBackend, type TestBackend } from './test-backend';

export interface Harness {
  backend: TestBackend;
  backendClient: Client;
  proxy: RunningServer;
  client: Client;
  /** The director in use; tests may replace it. Default: every call to the backend. */
  director: StreamDirector;
  readonly reports: CallReport[];
  readonly releases: StatusObject[];
  /** A route to the test backend whose `release` is recorded. */
  route(extra?: Partial<Route>): Route;
}

export function useHarness(options: ProxyHandlerOptions = {}): Harness {
  const harness = {
    reports: [] as CallReport[],
    releases: [] as StatusObject[],
  } as unknown as Harness;
  harness.route = (extra = {}) => ({
    backend: harness.backendClient,
    release: (status) => harness.releases.push(status),
    ...extra,
  });

  beforeEach(async () => {
    harness.reports.length = 0;
    harness.releases.length = 0;
    harness.backend = await startTestBackend();
    harness.backendClient = createBackendClient(harness.backend.target);
    harness.director = () => harness.route();
    harness.proxy = await startProxy((call) => harness.director(call), {
      observer: { onCallEnd: (report) => harness.reports.push(report) },
      ...options,
    });
    harness.client = rawClient(harness.proxy.target);
  });

  afterEach(async () => {
    harness.client.close();
    harness.backendClient.close();
    await harness.proxy.close();
    await harness.backend.close();
  });

  return harness;
}
