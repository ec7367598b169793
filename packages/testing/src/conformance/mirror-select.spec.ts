import { mirrorCases, selectMirrorCases } from './describe-mirror-conformance';

describe('selectMirrorCases', () => {
  const names = mirrorCases.map((c) => c.name);

  it('selects every mirror case by default, in order', () => {
    expect(selectMirrorCases({}).map((c) => c.name)).toEqual(names);
    expect(names).toHaveLength(9);
  });

  it('takes only the cases named in only, minus skip', () => {
    const only = ['mirror_percent_zero', 'mirror_refused_failed', 'mirror_copies_unary'];
    const selected = selectMirrorCases({ only, skip: ['mirror_refused_failed'] });
    expect(selected.map((c) => c.name)).toEqual(['mirror_copies_unary', 'mirror_percent_zero']);
  });

  it('throws on names it does not know, naming them and the known ones', () => {
    expect(() => selectMirrorCases({ skip: ['mirror_copies_unry', 'nope'] })).toThrow(
      `unknown mirror case "mirror_copies_unry", "nope"; known: ${names.join(', ')}`,
    );
  });
});
