/**
 * Harness of the end-to-end suite: child-process management, `/proc` and in-process stats of the
 * proxy under test, the raw-bytes probe service, hostile `node:http2` and raw-frame clients, and
 * a backend that mirrors the request headers it got.
 */
export * from './harness/node-process';
export * from './harness/proc-stats';
export * from './harness/stats-protocol';
export * from './harness/probe-service';
export * from './harness/processes';
export * from './harness/h2-client';
export * from './harness/raw-frames';
export * from './harness/header-mirror';
