/**
 * `npm run demo`: two echo backends and the proxy (round-robin with health checks) in one
 * process; calls of all four kinds through it, printed as a table; then one backend turns
 * NOT_SERVING and the traffic moves to the other. Exits 0. Not published: examples/ is compiled
 * by examples/tsconfig.json into out-tsc/examples, and run by examples/demo.spec.ts.
 */
import { status, type StatusObject } from '@grpc/grpc-js';
import {
  parseConfig,
  startProxy,
  type ProxyHandle,
  type TargetHealthChange,
} from '@grpc-proxy/proxy';
import {
  callBidi,
  callClientStream,
  callEcho,
  callServerStream,
  createEchoClient,
  echoRequest,
  startEchoServer,
  type CallOutcome,
  type EchoServerHandle,
  type EchoServiceClient,
} from '@grpc-proxy/testing';

/** One row of the demo's table. */
export interface DemoRow {
  readonly kind: string;
  readonly backend: string;
  readonly status: string;
  readonly latencyMs: number;
}

type CallKind = [kind: string, run: (client: EchoServiceClient) => Promise<CallOutcome>];

const THREE = [1, 2, 3].map((n) => echoRequest({ payload: Buffer.from(`message ${n}`) }));
const CALL_KINDS: CallKind[] = [
  ['unary', (client) => callEcho(client, echoRequest({ payload: Buffer.from('hello') }))],
  ['server streaming', (client) => callServerStream(client, echoRequest({ responseCount: 3 }))],
  ['client streaming', (client) => callClientStream(client, THREE)],
  ['bidi streaming', (client) => callBidi(client, THREE)],
];

function statusText(final: StatusObject): string {
  return final.code === status.OK ? 'OK' : `${status[final.code]}: ${final.details}`;
}

/** Makes each kind of call `rounds` times through `client`, one after the other. */
export async function runCalls(client: EchoServiceClient, rounds: number): Promise<DemoRow[]> {
  const rows: DemoRow[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const [kind, run] of CALL_KINDS) {
      const started = performance.now();
      const outcome = await run(client);
      const latencyMs = performance.now() - started;
      const backend = outcome.responses[0]?.serverName ?? '-';
      rows.push({ kind, backend, status: statusText(outcome.status), latencyMs });
    }
  }
  return rows;
}

/** Renders rows as an aligned text table. */
export function formatTable(rows: readonly DemoRow[]): string {
  const header = ['call kind', 'backend that answered', 'status', 'latency'];
  const cells = rows.map((row) => [
    row.kind,
    row.backend,
    row.status,
    `${row.latencyMs.toFixed(1)} ms`,
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...cells.map((cell) => cell[column].length)),
  );
  const line = (values: string[]) =>
    values
      .map((value, column) => value.padEnd(widths[column]))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...cells.map(line)].join(
    '\n',
  );
}

function countByBackend(rows: readonly DemoRow[]): string {
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.backend, (counts.get(row.backend) ?? 0) + 1);
  return [...counts].map(([backend, count]) => `${backend}: ${count}`).join(', ');
}

/** Runs the demo, writing to `print`; resolves with the rows of both rounds. */
export async function runDemo(
  print: (text: string) => void = console.log,
): Promise<{ before: DemoRow[]; after: DemoRow[] }> {
  const backends: EchoServerHandle[] = [];
  let proxy: ProxyHandle | undefined;
  let client: EchoServiceClient | undefined;
  const healthWaiters = new Set<(change: TargetHealthChange) => void>();
  try {
    backends.push(
      await startEchoServer({ name: 'backend-a' }),
      await startEchoServer({ name: 'backend-b' }),
    );
    const [a, b] = backends;
    const config = parseConfig(
      `
listen: 127.0.0.1:0
backends:
  - name: echo
    targets: ["${a.address}", "${b.address}"]
    balancing: round_robin
    healthCheck: true
log: { level: silent }
`,
      'demo config',
      process.cwd(),
    );
    proxy = await startProxy(config, {
      onHealthChange: (change) => healthWaiters.forEach((wake) => wake(change)),
    });
    print(`grpc-proxy demo: proxy on ${proxy.address}, round-robin with health checks over`);
    print(`  backend-a at ${a.address}`);
    print(`  backend-b at ${b.address}\n`);

    client = createEchoClient(proxy.address);
    const before = await runCalls(client, 2);
    print('Both backends SERVING: calls of all four kinds, two rounds');
    print(formatTable(before));
    print(`calls per backend: ${countByBackend(before)}\n`);

    const notServing = new Promise<void>((resolve) =>
      healthWaiters.add((change) => {
        if (change.target === a.address && change.status === 'NOT_SERVING') resolve();
      }),
    );
    a.setHealth('', 'NOT_SERVING');
    await notServing;
    print('backend-a now reports NOT_SERVING (grpc.health.v1); the proxy stops sending it calls');

    const after = await runCalls(client, 2);
    print(formatTable(after));
    print(`calls per backend: ${countByBackend(after)}\n`);
    return { before, after };
  } finally {
    client?.close();
    await proxy?.close(0);
    // The proxy's health Watch streams are gone; nothing else is running on the backends.
    await Promise.all(backends.map((backend) => backend.close()));
  }
}

if (require.main === module) {
  const started = performance.now();
  runDemo().then(
    ({ before, after }) => {
      const failed = [...before, ...after].filter((row) => row.status !== 'OK');
      const moved = after.every((row) => row.backend === 'backend-b');
      if (failed.length > 0 || !moved) {
        console.error(`demo failed: ${failed.length} failed call(s); traffic moved: ${moved}`);
        process.exitCode = 1;
        return;
      }
      console.log(
        `Demo finished in ${((performance.now() - started) / 1000).toFixed(1)} s. Next: grpc-proxy --help`,
      );
    },
    (error: unknown) => {
      console.error('demo failed:', error);
      process.exitCode = 1;
    },
  );
}
