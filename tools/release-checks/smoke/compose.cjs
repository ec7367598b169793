// Run inside a project that installed the packed packages: one unary call through a proxy built
// from @grpc-proxy/handler and @grpc-proxy/director to a raw-bytes grpc-js backend.
const assert = require('node:assert/strict');
const { Buffer } = require('node:buffer');
const grpc = require('@grpc/grpc-js');
const { deserializeRaw, rawMethod, serializeRaw } = require('@grpc-proxy/codec');
const { createProxyServer } = require('@grpc-proxy/handler');
const { byService, createBackend, roundRobin } = require('@grpc-proxy/director');

const bind = (server) =>
  new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) =>
      error ? reject(error) : resolve(port),
    ),
  );

async function main() {
  const upper = rawMethod('/smoke.v1.Text/Upper');
  const backend = new grpc.Server();
  backend.addService(
    { Upper: upper },
    {
      Upper: (call, callback) => callback(null, Buffer.from(call.request.toString().toUpperCase())),
    },
  );
  const director = byService({
    '*': roundRobin([createBackend(`127.0.0.1:${await bind(backend)}`, { name: 'only' })]),
  });
  const proxy = createProxyServer({ director });
  const client = new grpc.Client(
    `127.0.0.1:${await bind(proxy)}`,
    grpc.credentials.createInsecure(),
  );
  try {
    const reply = await new Promise((resolve, reject) =>
      client.makeUnaryRequest(
        upper.path,
        serializeRaw,
        deserializeRaw,
        Buffer.from('through the proxy'),
        new grpc.Metadata(),
        { deadline: Date.now() + 10_000 },
        (error, bytes) => (error ? reject(error) : resolve(bytes)),
      ),
    );
    assert.equal(reply.toString(), 'THROUGH THE PROXY');
  } finally {
    client.close();
    proxy.forceShutdown();
    backend.forceShutdown();
    director.close();
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
});
