import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// The README shows examples/composed-proxy.ts, which src/composed-proxy.spec.ts runs.
describe('README', () => {
  it('shows the composed example verbatim', () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    const example = readFileSync(join(__dirname, '..', 'examples', 'composed-proxy.ts'), 'utf8');
    expect(readme).toContain(example);
  });
});
