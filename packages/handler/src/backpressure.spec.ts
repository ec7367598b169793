import { describeBackpressure } from '@grpc-proxy/testing';
import { createBackendClient } from './backend-client';
import { createProxyServer } from './server';
import { bindLocal } from './test-support/grpc-fixtures';

describeBackpressure('backpressure end to end', {
  startProxy: async (target) => {
    const backend = createBackendClient(target);
    const proxy = await bindLocal(createProxyServer({ director: () => ({ backend }) }));
    return {
      address: proxy.target,
      close: async () => {
        backend.close();
        await proxy.close();
      },
    };
  },
  total: 8000,
  /*
   * Measured without a proxy on grpc-js 1.14 / Node 20 with 1 KiB messages: a server writing to a
   * client that does not read gets 64 accepted (one HTTP/2 window); a client writing to a server
   * that does not read gets 1024 accepted (grpc-js and Node's buffers on both ends). Through the
   * proxy, one more hop of windows and 16-message stream buffers is added, and nothing more.
   */
  downBound: 400,
  upBound: 2600,
});
