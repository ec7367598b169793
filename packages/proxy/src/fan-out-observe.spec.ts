import { status } from '@grpc/grpc-js';
import type { CallReport, FanOutOutcome } from '@grpc-proxy/handler';
import { Writable } from 'node:stream';
import { createCallLogger, createLogger } from './logging';
import { createProxyMetrics } from './metrics';

const LEGS: FanOutOutcome[] = [
  { backend: 'a/127.0.0.1:1', code: status.OK, details: 'OK', proxyError: false, messages: 3 },
  {
    backend: 'b/127.0.0.1:2',
    code: status.PERMISSION_DENIED,
    details: 'shard b says no',
    proxyError: false,
    messages: 1,
  },
  {
    backend: 'c',
    code: status.CANCELLED,
    details: 'grpc-proxy: fan-out call ended before this backend',
    proxyError: true,
    messages: 0,
  },
];

const REPORT: CallReport = {
  method: '/echo.Echo/Stream',
  peer: 'ipv4:127.0.0.1:1',
  startTime: 0,
  backend: 'fan-out(a,b,c)',
  code: status.PERMISSION_DENIED,
  details: 'shard b says no',
  proxyError: false,
  durationMs: 3,
  messagesFromClient: 1,
  messagesToClient: 4,
  bytesFromClient: 10,
  bytesToClient: 20,
  retries: 0,
  fanOut: LEGS,
};

describe('a fan-out call in the metrics and the call log', () => {
  it('counts one backend call per leg, by fan-out, backend, target and code', async () => {
    const metrics = createProxyMetrics({ processMetrics: false });
    metrics.addTarget('a/127.0.0.1:1', 'a', '127.0.0.1:1');
    metrics.addTarget('b/127.0.0.1:2', 'b', '127.0.0.1:2');
    metrics.observer.onCallEnd?.(REPORT);
    metrics.observer.onCallEnd?.({ ...REPORT, fanOut: LEGS.slice(0, 1) });
    metrics.observer.onCallEnd?.({ ...REPORT, backend: 'a/127.0.0.1:1', fanOut: undefined });

    const text = await metrics.registry.getSingleMetricAsString(
      'grpc_proxy_fanout_backend_calls_total',
    );
    const fanOut = 'fan_out="fan-out(a,b,c)"';
    expect(text.split('\n').filter((line) => !line.startsWith('#'))).toEqual([
      `grpc_proxy_fanout_backend_calls_total{${fanOut},backend="a",target="127.0.0.1:1",grpc_code="OK"} 2`,
      `grpc_proxy_fanout_backend_calls_total{${fanOut},backend="b",target="127.0.0.1:2",grpc_code="PERMISSION_DENIED"} 1`,
      `grpc_proxy_fanout_backend_calls_total{${fanOut},backend="c",target="",grpc_code="CANCELLED"} 1`,
    ]);
    const calls = await metrics.registry.getSingleMetricAsString('grpc_proxy_calls_total');
    expect(calls).toContain(
      'grpc_proxy_calls_total{grpc_service="echo.Echo",grpc_method="Stream",backend="fan-out(a,b,c)",target="",grpc_code="PERMISSION_DENIED"} 2',
    );
  });

  it("logs each leg's outcome on the call's line", () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ level: 'debug', pretty: false, destination });
    createCallLogger(logger).onCallEnd?.(REPORT);
    createCallLogger(logger).onCallEnd?.({ ...REPORT, fanOut: undefined });

    const [fanned, plain] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect([fanned.msg, fanned.backend, fanned.code]).toEqual([
      'call',
      'fan-out(a,b,c)',
      'PERMISSION_DENIED',
    ]);
    expect(fanned.fanOut).toEqual([
      'a/127.0.0.1:1 OK 3',
      'b/127.0.0.1:2 PERMISSION_DENIED 1: shard b says no',
      'c CANCELLED 0: grpc-proxy: fan-out call ended before this backend',
    ]);
    expect(plain).not.toHaveProperty('fanOut');
  });
});
