import { describeProxyConformance } from './describe-proxy-conformance';

// The echo server is its own "proxy": every case must pass against it directly.
describeProxyConformance('echo server, directly', {
  startProxy: (backendAddress) => ({ address: backendAddress, close: () => undefined }),
});
