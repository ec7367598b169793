import { createProxyMetrics, OTHER_METHOD_LABEL } from './metrics';

function report(overrides: Record<string, unknown>) {
  return {
    method: '/echo.Echo/Unary',
    peer: 'ipv4:127.0.0.1:1',
    startTime: 0,
    backend: 'a',
    code: 0,
    details: 'OK',
    proxyError: false,
    durationMs: 3,
    messagesFromClient: 1,
    messagesToClient: 1,
    bytesFromClient: 10,
    bytesToClient: 20,
    ...overrides,
  };
}

describe('createProxyMetrics', () => {
  it('counts calls by method, backend and code, with bytes, messages, durations and in-flight', async () => {
    const metrics = createProxyMetrics({ processMetrics: false });
    const start = { method: '/echo.Echo/Unary', peer: 'p', startTime: 0 };
    metrics.observer.onCallStart?.(start);
    metrics.observer.onCallStart?.(start);
    metrics.observer.onCallStart?.(start);
    metrics.observer.onCallEnd?.(report({}));
    metrics.observer.onCallEnd?.(report({ backend: 'b', durationMs: 2000 }));
    metrics.setBackendHealth('a', '127.0.0.1:1', true);
    metrics.setBackendHealth('a', '127.0.0.1:2', false);

    const text = await metrics.registry.metrics();
    const lines = text.split('\n').filter((line) => line && !line.startsWith('#'));
    expect(lines).toEqual(
      expect.arrayContaining([
        'grpc_proxy_calls_total{method="/echo.Echo/Unary",backend="a",code="OK"} 1',
        'grpc_proxy_calls_total{method="/echo.Echo/Unary",backend="b",code="OK"} 1',
        'grpc_proxy_calls_in_flight{method="/echo.Echo/Unary"} 1',
        'grpc_proxy_bytes_total{method="/echo.Echo/Unary",backend="a",direction="from_client"} 10',
        'grpc_proxy_bytes_total{method="/echo.Echo/Unary",backend="a",direction="to_client"} 20',
        'grpc_proxy_messages_total{method="/echo.Echo/Unary",backend="b",direction="to_client"} 1',
        'grpc_proxy_call_duration_seconds_bucket{le="0.005",method="/echo.Echo/Unary",backend="a",code="OK"} 1',
        'grpc_proxy_call_duration_seconds_bucket{le="1",method="/echo.Echo/Unary",backend="b",code="OK"} 0',
        'grpc_proxy_call_duration_seconds_bucket{le="2.5",method="/echo.Echo/Unary",backend="b",code="OK"} 1',
        'grpc_proxy_backend_healthy{backend="a",target="127.0.0.1:1"} 1',
        'grpc_proxy_backend_healthy{backend="a",target="127.0.0.1:2"} 0',
      ]),
    );
    expect(lines.some((line) => line.startsWith('grpc_proxy_proxy_errors_total{'))).toBe(false);
  });

  it('labels calls without a backend and counts the proxy own errors by code name', async () => {
    const metrics = createProxyMetrics({ processMetrics: false });
    metrics.observer.onCallEnd?.(report({ backend: undefined, code: 12, proxyError: true }));
    metrics.observer.onCallEnd?.(report({ code: 99 }));
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      'grpc_proxy_calls_total{method="/echo.Echo/Unary",backend="(none)",code="UNIMPLEMENTED"} 1',
    );
    expect(text).toContain(
      'grpc_proxy_proxy_errors_total{method="/echo.Echo/Unary",code="UNIMPLEMENTED"} 1',
    );
    expect(text).toContain(
      'grpc_proxy_calls_total{method="/echo.Echo/Unary",backend="a",code="99"} 1',
    );
  });

  it('keeps at most maxMethodLabels method labels; later methods count as (other)', async () => {
    const metrics = createProxyMetrics({ processMetrics: false, maxMethodLabels: 3 });
    for (let i = 0; i < 10; i++) {
      const method = `/random.S${i}/M`;
      metrics.observer.onCallStart?.({ method, peer: 'p', startTime: 0 });
      metrics.observer.onCallEnd?.(report({ method, code: 12 }));
    }
    // A method that got its own label keeps it after the cap is reached.
    metrics.observer.onCallStart?.({ method: '/random.S0/M', peer: 'p', startTime: 0 });
    metrics.observer.onCallEnd?.(report({ method: '/random.S0/M', code: 12 }));

    const text = await metrics.registry.metrics();
    const callLines = text.split('\n').filter((line) => line.startsWith('grpc_proxy_calls_total{'));
    expect(callLines.sort()).toEqual([
      `grpc_proxy_calls_total{method="${OTHER_METHOD_LABEL}",backend="a",code="UNIMPLEMENTED"} 7`,
      'grpc_proxy_calls_total{method="/random.S0/M",backend="a",code="UNIMPLEMENTED"} 2',
      'grpc_proxy_calls_total{method="/random.S1/M",backend="a",code="UNIMPLEMENTED"} 1',
      'grpc_proxy_calls_total{method="/random.S2/M",backend="a",code="UNIMPLEMENTED"} 1',
    ]);
    const inFlight = text
      .split('\n')
      .filter((line) => line.startsWith('grpc_proxy_calls_in_flight{'));
    expect(inFlight.sort()).toEqual([
      `grpc_proxy_calls_in_flight{method="${OTHER_METHOD_LABEL}"} 0`,
      'grpc_proxy_calls_in_flight{method="/random.S0/M"} 0',
      'grpc_proxy_calls_in_flight{method="/random.S1/M"} 0',
      'grpc_proxy_calls_in_flight{method="/random.S2/M"} 0',
    ]);
  });
});
