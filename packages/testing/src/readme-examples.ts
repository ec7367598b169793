import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testGlobals } from './jest-globals';

/**
 * Declares a jest `describe` block, `README examples`, with one test per file of `files` (paths
 * relative to `packageDir`): each fails unless `<packageDir>/README.md` shows the file's whole
 * text, verbatim, as a fenced `ts` code block. Run the example files in your tests too, and the
 * README's examples are known to work.
 *
 * @example
 * describeReadmeExamples(join(__dirname, '..'), ['examples/my-proxy.example.ts']);
 */
export function describeReadmeExamples(packageDir: string, files: readonly string[]): void {
  const { describe, it } = testGlobals(
    'describeReadmeExamples',
    ['describe', 'it'],
    'call it at the top level of a test file',
  );
  describe('README examples', () => {
    for (const file of files) {
      it(`README.md shows ${file} verbatim`, () => {
        const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
        const block = '```ts\n' + readFileSync(join(packageDir, file), 'utf8') + '```';
        if (!readme.includes(block)) {
          throw new Error(`README.md does not show ${file} verbatim in a \`\`\`ts block`);
        }
      });
    }
  });
}
