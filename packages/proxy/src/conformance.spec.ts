import { describeProxyConformance } from '@grpc-proxy/testing';
import { parseConfig } from './config/load';
import { createLogger } from './logging';
import { startProxy } from './proxy';

// The test kit's whole conformance suite against startProxy in this process, with the config the
// quick start gives (one backend, everything else default). The default engine, grpc-js, inflates
// compressed messages by design: declared, so the compression cases check exactly that.
describeProxyConformance('startProxy (in-process)', {
  declared: { inflatesCompressedMessages: true },
  startProxy: async (backendAddress) => {
    const config = parseConfig(
      `listen: 127.0.0.1:0\nbackends: [{ name: default, targets: ["${backendAddress}"] }]`,
      'conformance config',
      __dirname,
    );
    const proxy = await startProxy(config, { logger: createLogger({ level: 'silent' }) });
    return { address: proxy.address, close: async () => void (await proxy.close(0)) };
  },
});
