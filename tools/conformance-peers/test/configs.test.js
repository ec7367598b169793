'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const {
  caddyConfig,
  haproxyConformanceConfig,
  nginxConformanceConfig,
  replaceLine,
} = require('../src/configs');

test('nginx: the bench config, with nginx default grpc timeouts', () => {
  const config = nginxConformanceConfig({
    listenPort: 1234,
    backend: '127.0.0.1:5678',
    dir: '/tmp/x',
    asRoot: false,
  });
  assert.match(config, /listen 127\.0\.0\.1:1234 http2;/);
  assert.match(config, /server 127\.0\.0\.1:5678;/);
  assert.match(config, /client_max_body_size 0;/);
  assert.doesNotMatch(config, /grpc_read_timeout|grpc_send_timeout/);
  assert.match(config, /^# tools\/conformance-peers: /);
});

test("haproxy: h2 both sides, Debian's packaged client and server timeouts", () => {
  const config = haproxyConformanceConfig({ listenPort: 1234, backend: '127.0.0.1:5678' });
  assert.match(config, /bind 127\.0\.0\.1:1234 proto h2/);
  assert.match(config, /server backend 127\.0\.0\.1:5678 proto h2/);
  assert.match(config, /^\s+timeout client 50s$/m);
  assert.match(config, /^\s+timeout server 50s$/m);
  assert.doesNotMatch(config, /300s/);
});

test('Caddy: reverse_proxy h2c:// on a loopback h2c listener, no admin, no HTTPS', () => {
  const config = caddyConfig({ listenPort: 1234, backend: '127.0.0.1:5678' });
  assert.match(config, /^:1234 \{$/m);
  assert.match(config, /^\tbind 127\.0\.0\.1$/m);
  assert.match(config, /^\treverse_proxy h2c:\/\/127\.0\.0\.1:5678$/m);
  assert.match(config, /protocols h1 h2 h2c/);
  assert.match(config, /admin off/);
  assert.match(config, /auto_https off/);
});

test('replaceLine replaces or removes exactly one line, and says when the bench changed', () => {
  assert.equal(replaceLine('a\n  b 1;\nc', /b 1;$/, 'b 2;'), 'a\n  b 2;\nc');
  assert.equal(replaceLine('a\n  b 1;\nc', /^\s*b 1;$/, ''), 'a\nc');
  assert.throws(
    () => replaceLine('a\nb\nb', /^b$/, ''),
    /^Error: expected one line matching \/\^b\$\/ in the bench's config, found 2$/,
  );
  assert.throws(() => replaceLine('a', /^b$/, ''), /found 0$/);
});
