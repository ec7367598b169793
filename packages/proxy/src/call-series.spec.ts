import { createProxyMetrics } from './metrics';
import { callReport as report } from './test-support/call-reports';

async function samples(metrics: ReturnType<typeof createProxyMetrics>, name: string) {
  const lines = (await metrics.registry.metrics()).split('\n');
  return lines.filter((line) => line.startsWith(name));
}

describe('the call series behind createProxyMetrics', () => {
  it('keep one series per label values: a target added again, two paths labelled alike', async () => {
    const metrics = createProxyMetrics({ processMetrics: false });
    metrics.addTarget('a/127.0.0.1:1', 'a', '127.0.0.1:1');
    metrics.observer.onCallEnd?.(report({}));
    // A reload adds every target of the config again.
    metrics.addTarget('a/127.0.0.1:1', 'a', '127.0.0.1:1');
    metrics.observer.onCallEnd?.(report({}));
    // An unknown backend, twice; two paths that split into the same labels.
    metrics.observer.onCallEnd?.(report({ method: '/Bare', backend: 'x' }));
    metrics.observer.onCallEnd?.(report({ method: 'Bare', backend: 'x' }));
    expect(await samples(metrics, 'grpc_proxy_calls_total{')).toEqual([
      'grpc_proxy_calls_total{grpc_service="echo.Echo",grpc_method="Unary",backend="a",target="127.0.0.1:1",grpc_code="OK"} 2',
      'grpc_proxy_calls_total{grpc_service="",grpc_method="Bare",backend="x",target="",grpc_code="OK"} 2',
    ]);
    expect(await samples(metrics, 'grpc_proxy_messages_total{')).toEqual([
      'grpc_proxy_messages_total{grpc_service="echo.Echo",grpc_method="Unary",backend="a",target="127.0.0.1:1",direction="from_client"} 2',
      'grpc_proxy_messages_total{grpc_service="echo.Echo",grpc_method="Unary",backend="a",target="127.0.0.1:1",direction="to_client"} 2',
      'grpc_proxy_messages_total{grpc_service="",grpc_method="Bare",backend="x",target="",direction="from_client"} 2',
      'grpc_proxy_messages_total{grpc_service="",grpc_method="Bare",backend="x",target="",direction="to_client"} 2',
    ]);
  });

  it('count each fan-out leg by fan-out, backend, target and code', async () => {
    const metrics = createProxyMetrics({ processMetrics: false });
    metrics.addTarget('b/127.0.0.1:2', 'b', '127.0.0.1:2');
    const leg = { details: '', proxyError: false, messages: 1 };
    const fanOut = [
      { ...leg, backend: 'b/127.0.0.1:2', code: 0 },
      { ...leg, backend: 'c', code: 1 },
    ];
    metrics.observer.onCallEnd?.(report({ backend: 'all', fanOut }));
    metrics.observer.onCallEnd?.(report({ backend: 'all', fanOut: fanOut.slice(0, 1) }));
    expect(await samples(metrics, 'grpc_proxy_fanout_backend_calls_total{')).toEqual([
      'grpc_proxy_fanout_backend_calls_total{fan_out="all",backend="b",target="127.0.0.1:2",grpc_code="OK"} 2',
      'grpc_proxy_fanout_backend_calls_total{fan_out="all",backend="c",target="",grpc_code="CANCELLED"} 1',
    ]);
  });

  it('give the same exposition on every scrape, and keep counting after one', async () => {
    const metrics = createProxyMetrics({ processMetrics: false });
    metrics.observer.onCallStart?.({ method: '/echo.Echo/Unary', peer: 'p', startTime: 0 });
    metrics.observer.onCallEnd?.(report({ durationMs: 7, retries: 1, proxyError: true, code: 14 }));
    const first = await metrics.registry.metrics();
    expect(await metrics.registry.metrics()).toBe(first);
    metrics.observer.onCallEnd?.(report({ durationMs: 7, retries: 1, proxyError: true, code: 14 }));
    expect(await samples(metrics, 'grpc_proxy_transparent_retries_total{')).toEqual([
      'grpc_proxy_transparent_retries_total{grpc_service="echo.Echo",grpc_method="Unary"} 2',
    ]);
    expect(await samples(metrics, 'grpc_proxy_call_duration_seconds_sum{')).toEqual([
      'grpc_proxy_call_duration_seconds_sum{grpc_service="echo.Echo",grpc_method="Unary",backend="a/127.0.0.1:1",target="",grpc_code="UNAVAILABLE"} 0.014',
    ]);
    expect(await samples(metrics, 'grpc_proxy_calls_in_flight{')).toEqual([
      'grpc_proxy_calls_in_flight{grpc_service="echo.Echo",grpc_method="Unary"} -1',
    ]);
  });
});
