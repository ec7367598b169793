import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { test } from 'node:test';
import { ensureNode, resolveVersion, versions } from '../node-release.mjs';

test('a major line resolves to the version pinned for it', () => {
  assert.equal(resolveVersion('26'), versions.lines['26']);
  assert.equal(resolveVersion('v24'), versions.lines['24']);
  assert.equal(resolveVersion('20'), versions.unsupported['20']);
});

test('newestLts and oldest name lines of versions.json', () => {
  assert.equal(resolveVersion('newestLts'), versions.lines[versions.newestLts]);
  assert.equal(resolveVersion('oldest'), versions.lines[versions.oldest]);
  const majors = Object.keys(versions.lines).map(Number);
  assert.equal(Number(versions.oldest), Math.min(...majors));
  assert.equal(Number(versions.newestLts), Math.max(...majors));
});

test('an exact version is taken as given', () => {
  assert.equal(resolveVersion('25.1.0'), '25.1.0');
});

test('an unknown spec is refused, naming the known lines', () => {
  assert.throws(() => resolveVersion('lts'), {
    message: 'unknown Node.js version "lts": give x.y.z or one of 22, 24, 26, 20',
  });
});

test('the running release is used in place, without a fetch', () => {
  assert.equal(ensureNode(process.version.slice(1)), dirname(process.execPath));
});
