import { Metadata } from '@grpc/grpc-js';
import fc from 'fast-check';
// Through the engine entry point: these are the metadata rules a second engine gets.
import * as engine from './engine';
import { entries } from './test-support/grpc-fixtures';

function metadataOf(pairs: [string, string | Buffer][]): Metadata {
  const md = new Metadata();
  for (const [key, value] of pairs) md.add(key, value);
  return md;
}

describe('metadata policy', () => {
  it('lists the hop-by-hop keys of RFC 9110 and HTTP/2, and the keys grpc-js sets itself', () => {
    expect(engine.HOP_BY_HOP_KEYS.join(' ')).toBe(
      'connection keep-alive proxy-connection transfer-encoding upgrade te host http2-settings',
    );
    expect(engine.TRANSPORT_KEYS.join(' ')).toBe(
      'content-type date grpc-encoding grpc-accept-encoding accept-encoding grpc-timeout grpc-status grpc-message',
    );
  });

  it('drops every hop-by-hop key from requests and keeps application keys', () => {
    const policy = engine.compileMetadataPolicy();
    const md = metadataOf([
      ...engine.HOP_BY_HOP_KEYS.map((key): [string, string] => [key, 'v']),
      ['x-app', 'a'],
      ['x-app', 'b'],
    ]);
    expect(entries(engine.filterIncomingMetadata(md, policy))).toEqual({ 'x-app': ['a', 'b'] });
    for (const key of engine.HOP_BY_HOP_KEYS)
      expect(engine.isForwardedRequestKey(policy, key)).toBe(false);
    expect(engine.isForwardedRequestKey(policy, 'X-App')).toBe(true);
  });

  it('strips the listed routing keys after the director, case-insensitively', () => {
    const policy = engine.compileMetadataPolicy({ stripKeys: ['X-Route', 'x-tenant-bin'] });
    const md = metadataOf([
      ['x-route', 'blue'],
      ['x-tenant-bin', Buffer.from([1])],
      ['x-keep', 'k'],
    ]);
    expect(engine.isForwardedRequestKey(policy, 'x-route')).toBe(false);
    const out = engine.finishOutgoingMetadata(md, policy, {
      peer: '127.0.0.1:4000',
      authority: 'svc:443',
    });
    expect(entries(out)).toEqual({ 'x-keep': ['k'] });
  });

  it('appends the client address to x-forwarded-for and sets x-forwarded-host when asked', () => {
    const policy = engine.compileMetadataPolicy({ forwardedFor: true, forwardedHost: true });
    const md = metadataOf([['x-forwarded-for', '10.0.0.1']]);
    const out = engine.finishOutgoingMetadata(md, policy, {
      peer: '[::1]:5000',
      authority: 'front.example:443',
    });
    expect(entries(out)).toEqual({
      'x-forwarded-for': ['10.0.0.1, ::1'],
      'x-forwarded-host': ['front.example:443'],
    });
  });

  it('adds no forwarding headers by default', () => {
    const out = engine.finishOutgoingMetadata(new Metadata(), engine.compileMetadataPolicy(), {
      peer: '1.2.3.4:5',
      authority: 'a',
    });
    expect(entries(out)).toEqual({});
  });

  it('skips a forwarded host that is not a valid metadata value instead of throwing', () => {
    const policy = engine.compileMetadataPolicy({ forwardedHost: true });
    const out = engine.finishOutgoingMetadata(new Metadata(), policy, {
      peer: '1.2.3.4:5',
      authority: 'bad\u00e9host',
    });
    expect(entries(out)).toEqual({});
  });

  it('removes transport and status keys from response headers and trailers', () => {
    const policy = engine.compileMetadataPolicy();
    const md = metadataOf([
      ['content-type', 'application/grpc'],
      ['date', 'today'],
      ['grpc-encoding', 'identity'],
      ['grpc-accept-encoding', 'gzip'],
      ['grpc-status', '0'],
      ['grpc-message', 'ok'],
      ['grpc-status-details-bin', Buffer.from([1])],
      ['x-h', 'h'],
    ]);
    expect(entries(engine.filterResponseMetadata(md, policy))).toEqual({
      'grpc-status-details-bin': [Buffer.from([1])],
      'x-h': ['h'],
    });
    expect(engine.isForwardedResponseKey(policy, 'grpc-status')).toBe(false);
    expect(engine.isForwardedResponseKey(policy, 'grpc-status-details-bin')).toBe(true);
  });

  it('sanitizes route metadata from the director', () => {
    const md = metadataOf([
      ['connection', 'close'],
      ['grpc-timeout', '1S'],
      ['x-route-own', 'r'],
    ]);
    expect(entries(engine.sanitizeRouteMetadata(md))).toEqual({ 'x-route-own': ['r'] });
  });

  it('validates keys and values as grpc-js does', () => {
    expect(engine.isValidMetadataKey('x-ok_1.2')).toBe(true);
    expect(engine.isValidMetadataKey('X-Upper')).toBe(false);
    expect(engine.isValidMetadataKey('bad key')).toBe(false);
    expect(engine.isValidMetadataValue('x', 'printable ~')).toBe(true);
    expect(engine.isValidMetadataValue('x', 'caf\u00e9')).toBe(false);
    expect(engine.isValidMetadataValue('x', 'line\nbreak')).toBe(false);
    expect(engine.isValidMetadataValue('x-bin', Buffer.from([0, 255]))).toBe(true);
    expect(engine.isValidMetadataValue('x-bin', 'text')).toBe(false);
  });

  it('extracts the address of grpc-js peer strings', () => {
    expect(engine.peerAddress('127.0.0.1:5000')).toBe('127.0.0.1');
    expect(engine.peerAddress('ipv4:10.1.2.3:80')).toBe('10.1.2.3');
    expect(engine.peerAddress('[::1]:5000')).toBe('::1');
    expect(engine.peerAddress('::ffff:127.0.0.1:5000')).toBe('::ffff:127.0.0.1');
    expect(engine.peerAddress('unix:/tmp/sock')).toBe('unix:/tmp/sock');
    expect(engine.peerAddress('unknown')).toBe('unknown');
  });
});

describe('metadata policy (properties)', () => {
  const dropped = [...engine.HOP_BY_HOP_KEYS, ...engine.TRANSPORT_KEYS];
  const key = fc.oneof(
    fc.stringMatching(/^[0-9a-z_.-]{1,12}$/).filter((k) => !k.endsWith('-bin')),
    fc.constantFrom(...dropped, 'x-route'),
  );
  const value = fc.stringMatching(/^[ -~]{0,16}$/);

  it('keeps exactly the application keys, with their values, and never throws', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(key, value), { maxLength: 20 }),
        fc.boolean(),
        (pairs, forwarded) => {
          const policy = engine.compileMetadataPolicy({
            stripKeys: ['X-Route'],
            forwardedFor: forwarded,
          });
          const md = new Metadata();
          for (const [k, v] of pairs) md.add(k, v);
          const expected = entries(md);
          for (const k of [...dropped, 'x-route']) delete expected[k];
          engine.filterIncomingMetadata(md, policy);
          const out = entries(
            engine.finishOutgoingMetadata(md, policy, { peer: '10.0.0.1:99', authority: 'a' }),
          );
          if (forwarded) {
            const previous = expected['x-forwarded-for'] ?? [];
            expected['x-forwarded-for'] = [[...previous, '10.0.0.1'].join(', ')];
          }
          expect(out).toEqual(expected);
        },
      ),
      { numRuns: 300, seed: 20261125 }, // fixed seed: the same cases on every run
    );
  });
});
