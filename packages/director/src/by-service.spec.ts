import { status } from '@grpc/grpc-js';
import { byService, createBackend } from './index';
import { pickedName, proxyCall, statusError } from './test-support/calls';

const named = (name: string) => createBackend(`127.0.0.1:${name.length}`, { name });

describe('byService', () => {
  const director = byService({
    'acme.billing.v1.Billing/Refund': named('refunds'),
    'acme.billing.v1.Billing': named('billing'),
    '/acme.billing.v1.Invoices/Get': named('invoice-get'),
    'acme.billing.*': named('billing-any'),
    'acme.*': named('acme-any'),
    '*': named('default'),
  });
  const pick = (method: string) => pickedName(director(proxyCall(method)));

  it('prefers the exact method, then the service, then the longest prefix, then *', async () => {
    expect(await pick('/acme.billing.v1.Billing/Refund')).toBe('refunds');
    expect(await pick('/acme.billing.v1.Billing/Charge')).toBe('billing');
    expect(await pick('/acme.billing.v1.Invoices/Get')).toBe('invoice-get');
    expect(await pick('/acme.billing.v1.Invoices/List')).toBe('billing-any');
    expect(await pick('/acme.users.v1.Users/Get')).toBe('acme-any');
    expect(await pick('/other.Service/Call')).toBe('default');
    expect(await pick('/acme/Call')).toBe('default');
  });

  it('rejects an unmatched method with UNIMPLEMENTED naming it', () => {
    const narrow = byService({ 'acme.*': named('acme') });
    expect(() => narrow(proxyCall('/other.Service/Call'))).toThrow(
      statusError(status.UNIMPLEMENTED, 'no route for method /other.Service/Call'),
    );
  });

  it('refuses malformed patterns at creation', () => {
    for (const pattern of ['acme*', 'acme.*.v1', 'acme.Service/*', '']) {
      expect(() => byService({ [pattern]: named('x') })).toThrow(
        new TypeError(
          `byService: invalid route ${JSON.stringify(pattern)} (use "pkg.Service/Method", "pkg.Service", "pkg.*" or "*")`,
        ),
      );
    }
  });

  it('closes every target once', () => {
    const shared = named('shared');
    const close = jest.spyOn(shared, 'close');
    byService({ 'a.A': shared, 'b.*': shared }).close();
    expect(close).toHaveBeenCalledTimes(1);
    expect(shared.closed).toBe(true);
  });
});
