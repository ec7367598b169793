import { peekCases, selectPeekCases } from './describe-peek-conformance';

describe('selectPeekCases', () => {
  const names = peekCases.map((c) => c.name);

  it('selects every peek case by default, in order', () => {
    expect(selectPeekCases({}).map((c) => c.name)).toEqual(names);
    expect(names).toHaveLength(11);
  });

  it('takes only the cases named in only, minus skip', () => {
    const only = ['peek_routes_bidi', 'peek_over_limit', 'peek_routes_unary'];
    const selected = selectPeekCases({ only, skip: ['peek_over_limit'] });
    expect(selected.map((c) => c.name)).toEqual(['peek_routes_unary', 'peek_routes_bidi']);
  });

  it('throws on names it does not know, naming them and the known ones', () => {
    expect(() => selectPeekCases({ skip: ['peek_over_limt', 'nope'] })).toThrow(
      `unknown peek case "peek_over_limt", "nope"; known: ${names.join(', ')}`,
    );
  });
});
