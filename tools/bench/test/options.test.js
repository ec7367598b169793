'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { parseOptions, withoutNodeOption, USAGE } = require('../src/options');

test('--node is read as given, and absent by default', () => {
  assert.equal(parseOptions(['--node', '26'], '/repo').node, '26');
  assert.equal(parseOptions(['--node=newestLts'], '/repo').node, 'newestLts');
  assert.equal(parseOptions([], '/repo').node, undefined);
  assert.match(USAGE, /^ {2}--node V {13}run every Node process of the run/m);
});

test('the relaunched run gets every argument but --node, in order', () => {
  assert.deepEqual(withoutNodeOption(['--quick', '--node', '26', '--workloads', 'idle-1000']), [
    '--quick',
    '--workloads',
    'idle-1000',
  ]);
  assert.deepEqual(withoutNodeOption(['--node=22.23.3', '--no-profile']), ['--no-profile']);
  assert.deepEqual(withoutNodeOption(['--node', '24', '--node', '26']), []);
  assert.deepEqual(withoutNodeOption(['--quick']), ['--quick']);
});

test('a value that only looks like --node stays', () => {
  assert.deepEqual(withoutNodeOption(['--out=--node', '--node', '26']), ['--out=--node']);
  assert.deepEqual(withoutNodeOption(['--targets', 'naive', '--node', 'oldest']), [
    '--targets',
    'naive',
  ]);
});

test('an option the bench does not know is refused before any relaunch', () => {
  assert.throws(() => withoutNodeOption(['--nodes', '26']), {
    code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION',
  });
  assert.throws(() => parseOptions(['--node'], '/repo'), {
    code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE',
  });
});

test('--node naming the running release does not relaunch', async () => {
  const { otherRelease } = require('../src/relaunch');
  assert.equal(await otherRelease(process.versions.node), undefined);
  assert.equal(await otherRelease(`v${process.versions.node}`), undefined);
  await assert.rejects(otherRelease('lts'), { message: /^unknown Node\.js version "lts"/ });
});
