'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { parseH2loadOutput, parseH2loadLog } = require('../src/drivers');

const OUTPUT = `Application protocol: h2c
finished in 303.55ms, 2266.67 req/s, 308.20KB/s
requests: 680 total, 690 started, 680 done, 678 succeeded, 2 failed, 0 errored, 0 timeout
status codes: 678 2xx, 0 3xx, 0 4xx, 2 5xx
`;

test('parses the h2load summary, converting ms to seconds', () => {
  assert.deepEqual(parseH2loadOutput(OUTPUT), {
    seconds: 0.30355,
    total: 680,
    started: 690,
    done: 680,
    succeeded: 678,
    failed: 2,
    errored: 0,
    timeout: 0,
  });
  assert.equal(parseH2loadOutput(OUTPUT.replace('303.55ms', '2.00s')).seconds, 2);
});

test('rejects output it does not recognise, quoting it', () => {
  assert.throws(
    () => parseH2loadOutput('connect: Connection refused'),
    /unrecognised h2load output: connect/,
  );
});

test('per-request log: only 2xx requests, durations in ms', () => {
  const log =
    '1795628708600585\t200\t26690\n1795628708600586\t-1\t5\n1795628708600587\t502\t10\n1\t200\t1500\n';
  assert.deepEqual(parseH2loadLog(log), [26.69, 1.5]);
});
