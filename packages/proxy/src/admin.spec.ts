import { Registry, Counter } from 'prom-client';
import { startAdminServer, type AdminServer } from './admin';

describe('startAdminServer', () => {
  let admin: AdminServer | undefined;
  let reason: string | undefined;
  const registry = new Registry();
  new Counter({ name: 'test_things_total', help: 'things', registers: [registry] }).inc(3);

  beforeEach(async () => {
    reason = undefined;
    admin = await startAdminServer('127.0.0.1:0', { registry, notReadyReason: () => reason });
  });
  afterEach(async () => {
    await admin?.close();
    admin = undefined;
  });

  async function get(path: string, method = 'GET') {
    const response = await fetch(`http://${admin?.address}${path}`, { method });
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      body: await response.text(),
    };
  }

  it('serves the registry on /metrics', async () => {
    const response = await get('/metrics');
    expect(response.status).toBe(200);
    expect(response.type).toBe(registry.contentType);
    expect(response.body).toContain('test_things_total 3');
  });

  it('answers /healthz and /readyz with the reason when not ready', async () => {
    expect(await get('/healthz')).toEqual({ status: 200, type: 'text/plain', body: 'ok\n' });
    expect(await get('/readyz')).toEqual({ status: 200, type: 'text/plain', body: 'ready\n' });
    reason = 'draining';
    expect(await get('/readyz')).toEqual({
      status: 503,
      type: 'text/plain',
      body: 'not ready: draining\n',
    });
  });

  it('refuses unknown paths and methods', async () => {
    expect((await get('/nope')).status).toBe(404);
    expect((await get('/metrics', 'POST')).status).toBe(405);
  });

  it('reports a port already taken', async () => {
    await expect(
      startAdminServer(admin?.address ?? '', { registry, notReadyReason: () => undefined }),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});
