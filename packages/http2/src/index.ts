export { createHttp2Proxy, type Http2Proxy } from './server';
export { DEFAULT_DRAIN_TIMEOUT_MS, type Http2ProxyOptions, type Http2ProxyTls } from './options';
