import { describeProxyConformance } from '@grpc-proxy/testing';
import { startListeningCli } from './test-support/cli-process';

// The test kit's conformance suite, through the grpc-proxy command as a child process.
describeProxyConformance('grpc-proxy command (child process)', {
  startProxy: async (backendAddress) => {
    const { cli, addresses } = await startListeningCli([
      '--listen',
      '127.0.0.1:0',
      '--backend',
      backendAddress,
    ]);
    return {
      address: addresses[0],
      close: async () => {
        cli.child.kill('SIGTERM');
        const exit = await cli.exited;
        if (exit.code !== 0)
          throw new Error(`grpc-proxy exited with ${JSON.stringify(exit)}: ${cli.stderr()}`);
      },
    };
  },
});
