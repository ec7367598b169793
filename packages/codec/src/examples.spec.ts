import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeReadmeExamples } from '@grpc-proxy/testing';
import { codecWithParentExample } from '../examples/codec-with-parent';
import { framingExample } from '../examples/framing';
import { prefixScannerExample } from '../examples/prefix-scanner';
import { rawMethodExample } from '../examples/raw-method';

const packageDir = join(__dirname, '..');

const EXAMPLES = ['raw-method.ts', 'codec-with-parent.ts', 'framing.ts', 'prefix-scanner.ts'];

describeReadmeExamples(
  packageDir,
  EXAMPLES.map((file) => `examples/${file}`),
);

describe('the README examples', () => {
  it.each(EXAMPLES)('README.md links examples/%s', (file) => {
    const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
    expect(readme).toContain(`From [\`examples/${file}\`](examples/${file}):`);
  });

  it('raw-method: a grpc-js server and client exchange raw bytes', async () => {
    await expect(rawMethodExample()).resolves.toBe('RAW BYTES');
  });

  it('codec-with-parent: frames pass through, messages decode on demand', () => {
    expect(codecWithParentExample()).toEqual([
      'forwarded untouched: true',
      'decoded: hello x2',
      'decodeFrame: hi',
      'isRawFrame: true',
    ]);
  });

  it('framing: encodes, decodes a split stream, and reports a truncated one', () => {
    expect(framingExample()).toEqual([
      'first',
      'second (compressed)',
      'TRUNCATED_MESSAGE: stream ended inside a gRPC message: got 2 of 9 payload bytes',
    ]);
  });

  it('prefix-scanner: forwards chunks untouched, counts messages, stops at the limit', () => {
    expect(prefixScannerExample()).toEqual([
      'forwarded 3 chunks, messages of 5 and 0 bytes',
      'TOO_LARGE: 12 bytes announced, limit 8',
      'ended mid-message: true',
    ]);
  });
});
