import type { CallReport } from '@grpc-proxy/handler';

/**
 * A call's report as the handler gives its observer: a unary `/echo.Echo/Unary` call served OK
 * by backend `a/127.0.0.1:1` in 3 ms (one message and 10 bytes from the client, one message and
 * 20 bytes to it, no retry), with `overrides` applied.
 */
export function callReport(overrides: Partial<CallReport>): CallReport {
  return {
    method: '/echo.Echo/Unary',
    peer: 'ipv4:127.0.0.1:1',
    startTime: 0,
    backend: 'a/127.0.0.1:1',
    code: 0,
    details: 'OK',
    proxyError: false,
    durationMs: 3,
    messagesFromClient: 1,
    messagesToClient: 1,
    bytesFromClient: 10,
    bytesToClient: 20,
    retries: 0,
    ...overrides,
  };
}
