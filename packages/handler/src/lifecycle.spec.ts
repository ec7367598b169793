import { status } from '@grpc/grpc-js';
import { callRawBidi, openRawBidi } from '@grpc-proxy/testing';
import { eventually } from './test-support/grpc-fixtures';
import { useHarness } from './test-support/harness';
import { ECHO } from './test-support/test-backend';

describe('call lifecycle', () => {
  const h = useHarness();

  it('ends when the backend ends, without waiting for the client to half-close', async () => {
    const { call, outcome } = openRawBidi(h.client, `${ECHO}/EndEarly`);
    call.write(Buffer.from('only'));
    const result = await outcome; // the client never called end()
    expect(result.status.code).toBe(status.OK);
    expect(result.responses).toEqual([Buffer.from('only')]);
    expect(h.backend.seen[0].cancelled).toBe(false);
    call.end();
  });

  it('passes the client half-close on at once', async () => {
    const { call, outcome } = openRawBidi(h.client, `${ECHO}/Bidi`);
    call.write(Buffer.from('a'));
    await eventually(() => h.backend.seen.length === 1, 'backend call started');
    expect(h.backend.seen[0].ended).toBe(false);
    call.end();
    await eventually(() => h.backend.seen[0].ended, 'backend saw the half-close');
    expect((await outcome).status.code).toBe(status.OK);
  });

  it('passes client cancellation to the backend', async () => {
    const { call, outcome } = openRawBidi(h.client, `${ECHO}/Hang`);
    call.write(Buffer.from('a'));
    await eventually(() => h.backend.seen.length === 1, 'backend call started');
    call.cancel();
    expect((await outcome).status.code).toBe(status.CANCELLED);
    await eventually(() => h.backend.seen[0].cancelled, 'backend saw the cancellation');
    await eventually(() => h.reports.length === 1, 'observer heard the end');
    expect(h.reports[0]).toMatchObject({ code: status.CANCELLED, proxyError: false });
    expect(h.releases.map((s) => s.code)).toEqual([status.CANCELLED]);
  });

  it('passes the deadline to the backend, which is cancelled when it expires', async () => {
    const deadline = Date.now() + 1500;
    const { call, outcome } = openRawBidi(h.client, `${ECHO}/Hang`, { options: { deadline } });
    call.write(Buffer.from('a'));
    await eventually(() => h.backend.seen.length === 1, 'backend call started');
    // grpc-timeout carries what is left at each hop, in milliseconds-ish units: the backend's
    // deadline is never later than the client's (plus rounding), and earlier only by the time
    // the call took to get there (generous: CI machines are loaded).
    const seen = h.backend.seen[0].deadline;
    expect(seen).toBeLessThanOrEqual(deadline + 50);
    expect(seen).toBeGreaterThan(deadline - 1000);
    expect((await outcome).status.code).toBe(status.DEADLINE_EXCEEDED);
    await eventually(() => h.backend.seen[0].cancelled, 'backend call ended by the deadline');
    await eventually(() => h.reports.length === 1, 'observer heard the end');
    expect(h.reports[0].code).toBe(status.DEADLINE_EXCEEDED);
  });

  it('does not report a completed call as cancelled', async () => {
    const outcome = await callRawBidi(h.client, `${ECHO}/Bidi`, [Buffer.from('x')]);
    expect(outcome.status.code).toBe(status.OK);
    await eventually(() => h.reports.length === 1, 'observer heard the end');
    expect(h.reports[0]).toMatchObject({ code: status.OK, proxyError: false });
    expect(h.releases.map((s) => s.code)).toEqual([status.OK]);
    expect(h.backend.seen[0].cancelled).toBe(false);
  });

  it('cancels the backend call when the proxy fails the call itself', async () => {
    const { call, outcome } = openRawBidi(h.client, `${ECHO}/Hang`);
    call.write(Buffer.from('small'));
    await eventually(() => h.backend.seen.length === 1, 'backend call started');
    call.write(Buffer.alloc(65 * 1024 * 1024 + 1)); // over the proxy's 64 MiB default
    const result = await outcome;
    expect(result.status.code).toBe(status.RESOURCE_EXHAUSTED);
    await eventually(() => h.backend.seen[0].cancelled, 'backend call cancelled');
  });

  it('ends the call, naming the proxy, when the backend server shuts down mid-call', async () => {
    const { call, outcome } = openRawBidi(h.client, `${ECHO}/Hang`);
    call.write(Buffer.from('a'));
    await eventually(() => h.backend.seen.length === 1, 'backend call started');
    h.backend.server.forceShutdown();
    const result = await outcome;
    // The server resets its streams (RST_STREAM CANCEL); grpc-js reports that as CANCELLED.
    expect(result.status.code).toBe(status.CANCELLED);
    expect(result.status.details).toMatch(/^grpc-proxy: backend dns:127\.0\.0\.1:\d+ failed: /);
    await eventually(() => h.reports.length === 1, 'observer heard the end');
    expect(h.reports[0]).toMatchObject({ code: status.CANCELLED, proxyError: true });
  });
});
