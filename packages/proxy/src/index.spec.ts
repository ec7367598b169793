import * as codec from '@grpc-proxy/codec';
import * as director from '@grpc-proxy/director';
import * as handler from '@grpc-proxy/handler';
import * as testing from '@grpc-proxy/testing';
import * as umbrella from './index';

describe('@grpc-proxy/proxy umbrella', () => {
  it.each([
    ['@grpc-proxy/codec', codec],
    ['@grpc-proxy/handler', handler],
    ['@grpc-proxy/director', director],
    ['@grpc-proxy/testing', testing],
  ])('re-exports every runtime export of %s, as the same value', (_name, layer) => {
    const exported = umbrella as Record<string, unknown>;
    const missing = Object.keys(layer).filter((key) => !(key in exported));
    expect(missing).toEqual([]);
    // DEFAULT_MAX_MESSAGE_LENGTH is in codec and in handler: one export, the same number.
    for (const [key, value] of Object.entries(layer)) expect(exported[key]).toBe(value);
  });

  it('exports the command building blocks', () => {
    expect(typeof umbrella.loadConfig).toBe('function');
    expect(typeof umbrella.startProxy).toBe('function');
    expect(typeof umbrella.createProgram).toBe('function');
    expect(umbrella.SHUTDOWN_MESSAGE).toBe('grpc-proxy: shutting down');
  });
});
