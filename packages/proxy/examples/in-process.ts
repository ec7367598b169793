// The grpc-proxy command's building blocks, in-process: load a config, start the proxy, call
// through it, drain it. Run by examples/in-process.spec.ts, so this file stays correct.
import { parseConfig, startProxy } from '@grpc-proxy/proxy';
import { callEcho, createEchoClient, echoRequest, startEchoServer } from '@grpc-proxy/testing';

export async function main(): Promise<string> {
  const backend = await startEchoServer({ name: 'backend-1' });

  // The same YAML the command reads (loadConfig(file) reads it from a file).
  const config = parseConfig(
    `
listen: 127.0.0.1:0
backends:
  - name: echo
    targets: ["${backend.address}"]
    healthCheck: true
log: { level: warn }
`,
    'inline config',
    process.cwd(),
  );
  const proxy = await startProxy(config);

  const client = createEchoClient(proxy.address);
  const outcome = await callEcho(client, echoRequest({ payload: Buffer.from('hi') }));
  client.close();

  // Graceful stop: running calls get up to 5 s, then UNAVAILABLE "grpc-proxy: shutting down".
  await proxy.close(5000);
  await backend.close();
  return `${outcome.responses[0].serverName} answered with status ${outcome.status.code}`;
}
