import { formatTable, runDemo } from './demo';

describe('the demo (npm run demo)', () => {
  it('answers every call kind from both backends, then only from the serving one', async () => {
    const printed: string[] = [];
    const { before, after } = await runDemo((text) => printed.push(text));
    const kinds = ['unary', 'server streaming', 'client streaming', 'bidi streaming'];
    expect(before.map((row) => [row.kind, row.status])).toEqual(
      [...kinds, ...kinds].map((kind) => [kind, 'OK']),
    );
    expect(before.map((row) => row.backend)).toEqual([
      'backend-a',
      'backend-b',
      'backend-a',
      'backend-b',
      'backend-a',
      'backend-b',
      'backend-a',
      'backend-b',
    ]);
    expect(after.map((row) => [row.kind, row.backend, row.status])).toEqual(
      [...kinds, ...kinds].map((kind) => [kind, 'backend-b', 'OK']),
    );
    const output = printed.join('\n');
    expect(output).toContain('calls per backend: backend-a: 4, backend-b: 4');
    expect(output).toContain('backend-a now reports NOT_SERVING');
    expect(output).toContain('calls per backend: backend-b: 8');
  });

  it('formats rows as an aligned table', () => {
    expect(
      formatTable([
        { kind: 'unary', backend: 'backend-a', status: 'OK', latencyMs: 1.25 },
        { kind: 'bidi streaming', backend: '-', status: 'UNAVAILABLE: down', latencyMs: 12 },
      ]),
    ).toBe(
      [
        'call kind       backend that answered  status             latency',
        '--------------  ---------------------  -----------------  -------',
        'unary           backend-a              OK                 1.3 ms',
        'bidi streaming  -                      UNAVAILABLE: down  12.0 ms',
      ].join('\n'),
    );
  });
});
