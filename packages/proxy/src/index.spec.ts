import * as codec from '@grpc-proxy/codec';
import * as director from '@grpc-proxy/director';
import * as handler from '@grpc-proxy/handler';
import * as umbrella from './index';
import { SHUTDOWN_MESSAGE, startProxy } from './proxy';

/** The command's in-process entry: the only runtime names the umbrella adds to the layers. */
const OWN = [
  'ConfigError',
  'createProxyMetrics',
  'loadConfig',
  'parseConfig',
  'proxyConfigSchema',
  'SHUTDOWN_MESSAGE',
  'startProxy',
];

describe('@grpc-proxy/proxy umbrella', () => {
  it.each([
    ['@grpc-proxy/codec', codec],
    ['@grpc-proxy/handler', handler],
    ['@grpc-proxy/director', director],
  ])('re-exports every runtime export of %s, as the same value', (_name, layer) => {
    const exported = umbrella as Record<string, unknown>;
    const missing = Object.keys(layer).filter((key) => !(key in exported));
    expect(missing).toEqual([]);
    for (const [key, value] of Object.entries(layer)) expect(exported[key]).toBe(value);
  });

  it('adds exactly the in-process entry of the command, nothing of its plumbing or the test kit', () => {
    const layers = new Set([codec, handler, director].flatMap((layer) => Object.keys(layer)));
    const own = Object.keys(umbrella)
      .filter((key) => !layers.has(key))
      .sort();
    expect(own).toEqual([...OWN].sort());
    expect(umbrella.startProxy).toBe(startProxy);
    expect(umbrella.SHUTDOWN_MESSAGE).toBe(SHUTDOWN_MESSAGE);
    expect(SHUTDOWN_MESSAGE).toBe('grpc-proxy: shutting down');
  });
});
