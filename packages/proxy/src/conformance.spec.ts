import { describeProxyConformance } from '@grpc-proxy/testing';
import { parseConfig } from './config/load';
import { createLogger } from './logging';
import { startProxy } from './proxy';

// The test kit's whole conformance suite against startProxy in this process, with the config the
// quick start gives (one backend, everything else default: the http2 engine, which forwards
// compressed messages compressed; cli-conformance.spec.ts runs both engines through the bin).
describeProxyConformance('startProxy (in-process)', {
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
