import { compileRoutes } from './routing';

function call(method: string, metadata: Record<string, string[]> = {}) {
  return { method, metadataValues: (key: string) => metadata[key] ?? [] };
}

describe('compileRoutes', () => {
  const table = compileRoutes(
    [
      { method: '/acme.Users/Delete', backend: 'admin' },
      { service: 'acme.Users', metadata: { 'x-tenant': ['blue', 'teal'] }, backend: 'blue' },
      { service: 'acme.Users', backend: 'users' },
      { metadata: { 'x-canary': ['1'], 'x-tenant': ['red'] }, backend: 'canary' },
    ],
    'fallback',
  );

  it('matches a full method before later, broader rules', () => {
    expect(table(call('/acme.Users/Delete', { 'x-tenant': ['blue'] }))).toBe('admin');
  });

  it('needs every condition of a rule, and takes the first matching rule', () => {
    expect(table(call('/acme.Users/Get', { 'x-tenant': ['teal'] }))).toBe('blue');
    expect(table(call('/acme.Users/Get', { 'x-tenant': ['green'] }))).toBe('users');
    expect(table(call('/acme.Users/Get'))).toBe('users');
    expect(table(call('/acme.Orders/Get', { 'x-canary': ['1'], 'x-tenant': ['red'] }))).toBe(
      'canary',
    );
    expect(table(call('/acme.Orders/Get', { 'x-canary': ['1'] }))).toBe('fallback');
  });

  it('looks at the first metadata value only', () => {
    expect(table(call('/acme.Users/Get', { 'x-tenant': ['green', 'blue'] }))).toBe('users');
  });

  it('does not take a service prefix for the service', () => {
    expect(table(call('/acme.UsersV2/Get'))).toBe('fallback');
    expect(table(call('/malformed'))).toBe('fallback');
  });

  it('gives undefined without a default', () => {
    expect(compileRoutes([{ service: 'a.A', backend: 'a' }])(call('/b.B/M'))).toBeUndefined();
  });
});
