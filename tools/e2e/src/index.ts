/**
 * Harness of the end-to-end suite: child-process management, `/proc` and in-process stats of the
 * proxy under test, the raw-bytes probe service, hostile `node:http2` and raw-frame clients, a
 * backend that mirrors the request headers it got, and for the restart cases an in-process
 * backend that restarts on its port, a listener that counts probes of a dead port, and a unary
 * load of concurrent callers.
 */
export * from './harness/node-process';
export * from './harness/proc-stats';
export * from './harness/stats-protocol';
export * from './harness/probe-service';
export * from './harness/processes';
export * from './harness/h2-client';
export * from './harness/raw-frames';
export * from './harness/header-mirror';
export * from './harness/restartable-backend';
export * from './harness/dead-port';
export * from './harness/unary-load';
export * from './harness/wait-until';
