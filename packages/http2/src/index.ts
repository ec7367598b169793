export { createHttp2Proxy, type Http2Proxy } from './server';
export {
  DEFAULT_BACKEND_IDLE_TIMEOUT_MS,
  DEFAULT_BACKEND_KEEPALIVE_TIMEOUT_MS,
  DEFAULT_DRAIN_TIMEOUT_MS,
  type Http2ProxyOptions,
  type Http2ProxyTls,
} from './options';
