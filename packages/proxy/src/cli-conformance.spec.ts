import { describeProxyConformance } from '@grpc-proxy/testing';
import { startListening } from './test-support/command-run';

// The test kit's conformance suite, through the grpc-proxy command (flags to config to proxy), on
// each engine. The grpc-js engine inflates compressed messages by design: declared, so the
// compression cases check exactly that.
describe.each(['grpc-js', 'http2'])('engine %s', (engine) => {
  describeProxyConformance(`grpc-proxy command --engine ${engine} (in-process)`, {
    declared: { inflatesCompressedMessages: engine === 'grpc-js' },
    startProxy: async (backendAddress) => {
      const { run, addresses } = await startListening([
        '--engine',
        engine,
        '--listen',
        '127.0.0.1:0',
        '--backend',
        backendAddress,
      ]);
      return {
        address: addresses[0],
        close: async () => {
          run.signal('SIGTERM');
          const code = await run.exitCode;
          if (code !== 0) throw new Error(`grpc-proxy exited with ${code}: ${run.stderr()}`);
        },
      };
    },
  });
});
