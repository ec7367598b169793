import type { status } from '@grpc/grpc-js';
import { createProxyMetrics, NO_BACKEND_LABEL, OTHER_METHOD_LABEL } from './metrics';
import { callReport as report } from './test-support/call-reports';

async function samples(metrics: ReturnType<typeof createProxyMetrics>, name?: string) {
  const lines = (await metrics.registry.metrics()).split('\n');
  return lines.filter((line) => line && !line.startsWith('#') && line.startsWith(name ?? ''));
}

const ECHO = 'grpc_service="echo.Echo",grpc_method="Unary"';

describe('createProxyMetrics', () => {
  it('counts calls by method, backend, target and code, with bytes, messages, durations and in-flight', async () => {
    const metrics = createProxyMetrics({ processMetrics: false });
    metrics.addTarget('a/127.0.0.1:1', 'a', '127.0.0.1:1');
    metrics.addTarget('b/127.0.0.1:2', 'b', '127.0.0.1:2');
    const start = { method: '/echo.Echo/Unary', peer: 'p', startTime: 0 };
    metrics.observer.onCallStart?.(start);
    metrics.observer.onCallStart?.(start);
    metrics.observer.onCallStart?.(start);
    metrics.observer.onCallEnd?.(report({}));
    metrics.observer.onCallEnd?.(report({ backend: 'b/127.0.0.1:2', durationMs: 2000 }));
    metrics.setBackendHealth('a', '127.0.0.1:1', true);
    metrics.setBackendHealth('a', '127.0.0.3', false);

    const a = `${ECHO},backend="a",target="127.0.0.1:1"`;
    const b = `${ECHO},backend="b",target="127.0.0.1:2"`;
    expect(await samples(metrics)).toEqual(
      expect.arrayContaining([
        `grpc_proxy_calls_total{${a},grpc_code="OK"} 1`,
        `grpc_proxy_calls_total{${b},grpc_code="OK"} 1`,
        `grpc_proxy_calls_in_flight{${ECHO}} 1`,
        `grpc_proxy_bytes_total{${a},direction="from_client"} 10`,
        `grpc_proxy_bytes_total{${a},direction="to_client"} 20`,
        `grpc_proxy_messages_total{${b},direction="to_client"} 1`,
        `grpc_proxy_call_duration_seconds_bucket{le="0.005",${a},grpc_code="OK"} 1`,
        `grpc_proxy_call_duration_seconds_bucket{le="1",${b},grpc_code="OK"} 0`,
        `grpc_proxy_call_duration_seconds_bucket{le="2.5",${b},grpc_code="OK"} 1`,
        'grpc_proxy_backend_healthy{backend="a",target="127.0.0.1:1"} 1',
        'grpc_proxy_backend_healthy{backend="a",target="127.0.0.3"} 0',
      ]),
    );
    expect(await samples(metrics, 'grpc_proxy_calls_failed_in_proxy_total')).toEqual([]);
  });

  it('labels calls without a backend or of an unknown one, and counts the calls the proxy failed', async () => {
    const metrics = createProxyMetrics({ processMetrics: false });
    metrics.observer.onCallEnd?.(report({ backend: undefined, code: 12, proxyError: true }));
    metrics.observer.onCallEnd?.(report({ backend: 'elsewhere', code: 99 as status }));
    const none = `backend="${NO_BACKEND_LABEL}",target="${NO_BACKEND_LABEL}"`;
    expect(await samples(metrics, 'grpc_proxy_calls_total')).toEqual([
      `grpc_proxy_calls_total{${ECHO},${none},grpc_code="UNIMPLEMENTED"} 1`,
      `grpc_proxy_calls_total{${ECHO},backend="elsewhere",target="",grpc_code="99"} 1`,
    ]);
    expect(await samples(metrics, 'grpc_proxy_calls_failed_in_proxy_total')).toEqual([
      `grpc_proxy_calls_failed_in_proxy_total{${ECHO},${none},grpc_code="UNIMPLEMENTED"} 1`,
    ]);
  });

  it('keeps at most maxMethodLabels methods; later methods count as (other)', async () => {
    const metrics = createProxyMetrics({ processMetrics: false, maxMethodLabels: 3 });
    metrics.addTarget('a/127.0.0.1:1', 'a', '127.0.0.1:1');
    for (let i = 0; i < 10; i++) {
      const method = `/random.S${i}/M`;
      metrics.observer.onCallStart?.({ method, peer: 'p', startTime: 0 });
      metrics.observer.onCallEnd?.(report({ method, code: 12 }));
    }
    // A method that got its own labels keeps them after the cap is reached.
    metrics.observer.onCallStart?.({ method: '/random.S0/M', peer: 'p', startTime: 0 });
    metrics.observer.onCallEnd?.(report({ method: '/random.S0/M', code: 12 }));

    const other = `grpc_service="${OTHER_METHOD_LABEL}",grpc_method="${OTHER_METHOD_LABEL}"`;
    const a = 'backend="a",target="127.0.0.1:1",grpc_code="UNIMPLEMENTED"';
    expect((await samples(metrics, 'grpc_proxy_calls_total{')).sort()).toEqual([
      `grpc_proxy_calls_total{${other},${a}} 7`,
      `grpc_proxy_calls_total{grpc_service="random.S0",grpc_method="M",${a}} 2`,
      `grpc_proxy_calls_total{grpc_service="random.S1",grpc_method="M",${a}} 1`,
      `grpc_proxy_calls_total{grpc_service="random.S2",grpc_method="M",${a}} 1`,
    ]);
    expect((await samples(metrics, 'grpc_proxy_calls_in_flight{')).sort()).toEqual([
      `grpc_proxy_calls_in_flight{${other}} 0`,
      'grpc_proxy_calls_in_flight{grpc_service="random.S0",grpc_method="M"} 0',
      'grpc_proxy_calls_in_flight{grpc_service="random.S1",grpc_method="M"} 0',
      'grpc_proxy_calls_in_flight{grpc_service="random.S2",grpc_method="M"} 0',
    ]);
  });

  it('counts transparent retries by method, from CallReport.retries', async () => {
    const metrics = createProxyMetrics({ processMetrics: false });
    metrics.observer.onCallEnd?.(report({ retries: 2 }));
    metrics.observer.onCallEnd?.(report({ retries: 1 }));
    metrics.observer.onCallEnd?.(report({ method: '/other.S/M', retries: 0 }));
    expect(await samples(metrics, 'grpc_proxy_transparent_retries_total')).toEqual([
      `grpc_proxy_transparent_retries_total{${ECHO}} 3`,
    ]);
  });

  it('reports passive health: backend_up per target, an ejection per change to out of rotation', async () => {
    const metrics = createProxyMetrics({ processMetrics: false });
    metrics.addTarget('a/127.0.0.1:1', 'a', '127.0.0.1:1');
    metrics.addTarget('a/127.0.0.1:2', 'a', '127.0.0.1:2');
    const a1 = 'backend="a",target="127.0.0.1:1"';
    const a2 = 'backend="a",target="127.0.0.1:2"';
    // Every target starts in rotation, with no ejection.
    expect(await samples(metrics, 'grpc_proxy_backend_')).toEqual([
      `grpc_proxy_backend_up{${a1}} 1`,
      `grpc_proxy_backend_up{${a2}} 1`,
      `grpc_proxy_backend_ejections_total{${a1}} 0`,
      `grpc_proxy_backend_ejections_total{${a2}} 0`,
    ]);
    metrics.setBackendUp('a', '127.0.0.1:1', false);
    // A repeated "out" is the same ejection; back and out again is a second one.
    metrics.setBackendUp('a', '127.0.0.1:1', false);
    metrics.setBackendUp('a', '127.0.0.1:1', true);
    metrics.setBackendUp('a', '127.0.0.1:1', false);
    metrics.setBackendUp('b', '127.0.0.1:3', false);
    expect(await samples(metrics, 'grpc_proxy_backend_')).toEqual([
      `grpc_proxy_backend_up{${a1}} 0`,
      `grpc_proxy_backend_up{${a2}} 1`,
      'grpc_proxy_backend_up{backend="b",target="127.0.0.1:3"} 0',
      `grpc_proxy_backend_ejections_total{${a1}} 2`,
      `grpc_proxy_backend_ejections_total{${a2}} 0`,
      'grpc_proxy_backend_ejections_total{backend="b",target="127.0.0.1:3"} 1',
    ]);
  });
});
