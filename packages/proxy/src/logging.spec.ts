import { Writable } from 'node:stream';
import { combineObservers, createCallLogger, createLogger, passiveHealthReporter } from './logging';
import { createProxyMetrics } from './metrics';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return {
    lines,
    destination: destination as unknown as NodeJS.WritableStream & { write(msg: string): void },
  };
}

const report = {
  method: '/a.A/M',
  peer: 'ipv4:127.0.0.1:5',
  startTime: 0,
  backend: 'a/x:1',
  code: 0,
  details: 'OK',
  proxyError: false,
  durationMs: 1.23456,
  messagesFromClient: 1,
  messagesToClient: 1,
  bytesFromClient: 3,
  bytesToClient: 4,
  retries: 0,
};

describe('createLogger and createCallLogger', () => {
  it('writes one JSON object per line, and logs calls at debug and proxy failures at warn', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ level: 'debug', pretty: false, destination });
    const observer = createCallLogger(logger);
    observer.onCallEnd?.(report);
    observer.onCallEnd?.({
      ...report,
      backend: undefined,
      code: 12,
      details: 'grpc-proxy: no route',
      proxyError: true,
    });
    const [call, failure] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(call).toMatchObject({
      level: 20,
      name: 'grpc-proxy',
      msg: 'call',
      method: '/a.A/M',
      backend: 'a/x:1',
      code: 'OK',
      durationMs: 1.235,
      bytesFromClient: 3,
      bytesToClient: 4,
      retries: 0,
    });
    expect(failure).toMatchObject({
      level: 40,
      msg: 'call failed in the proxy',
      code: 'UNIMPLEMENTED',
      details: 'grpc-proxy: no route',
    });
    expect(lines).toHaveLength(2);
  });

  it('logs no per-call line at the default level', () => {
    const { lines, destination } = capture();
    createCallLogger(createLogger({ pretty: false, destination })).onCallEnd?.(report);
    expect(lines).toEqual([]);
  });

  it('writes readable lines instead of JSON when pretty', () => {
    const { lines, destination } = capture();
    createLogger({ pretty: true, destination }).info(
      { addresses: ['127.0.0.1:1'] },
      'grpc-proxy listening',
    );
    expect(lines[0]).toMatch(/INFO.*grpc-proxy listening/);
    expect(() => JSON.parse(lines[0])).toThrow();
  });
});

describe('combineObservers', () => {
  it('calls every observer that has the hook, in order', () => {
    const seen: string[] = [];
    const combined = combineObservers(
      { onCallStart: () => seen.push('first start'), onCallEnd: () => seen.push('first end') },
      { onCallEnd: () => seen.push('second end') },
    );
    combined.onCallStart?.({ method: '/a.A/M', peer: 'p', startTime: 0 });
    combined.onCallEnd?.(report);
    expect(seen).toEqual(['first start', 'first end', 'second end']);
  });
});

describe('passiveHealthReporter', () => {
  it('logs each passive-health change (warn out with the error, info back) and feeds the metrics', async () => {
    const { lines, destination } = capture();
    const metrics = createProxyMetrics({ processMetrics: false });
    metrics.addTarget('pool/127.0.0.1:9', 'pool', '127.0.0.1:9');
    const onChange = passiveHealthReporter(metrics, createLogger({ pretty: false, destination }));
    const refused = new Error('connect ECONNREFUSED 127.0.0.1:9');
    onChange({ backend: 'pool', target: '127.0.0.1:9', available: false, error: refused });
    const whileOut = await metrics.registry.getSingleMetricAsString('grpc_proxy_backend_up');
    onChange({ backend: 'pool', target: '127.0.0.1:9', available: true, error: undefined });
    expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toEqual([
      expect.objectContaining({
        level: 40,
        msg: 'backend pool/127.0.0.1:9 out of rotation: connect ECONNREFUSED 127.0.0.1:9',
        backend: 'pool',
        target: '127.0.0.1:9',
        available: false,
        error: 'connect ECONNREFUSED 127.0.0.1:9',
      }),
      expect.objectContaining({
        level: 30,
        msg: 'backend pool/127.0.0.1:9 back in rotation',
        backend: 'pool',
        target: '127.0.0.1:9',
        available: true,
      }),
    ]);
    expect(whileOut).toContain('grpc_proxy_backend_up{backend="pool",target="127.0.0.1:9"} 0');
    const ejections = await metrics.registry.getSingleMetricAsString(
      'grpc_proxy_backend_ejections_total',
    );
    expect(ejections).toContain(
      'grpc_proxy_backend_ejections_total{backend="pool",target="127.0.0.1:9"} 1',
    );
  });
});
