import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// The README's examples are these files, run as tests here.
import '../examples/echo-server.example';
import '../examples/conformance.example';

describe('README', () => {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

  it.each(['echo-server.example.ts', 'conformance.example.ts'])('shows %s verbatim', (file) => {
    const source = readFileSync(join(__dirname, '..', 'examples', file), 'utf8');
    expect(readme).toContain(source);
  });
});
