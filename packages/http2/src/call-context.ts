import type { StreamDirector } from '@grpc-proxy/handler';
import type { CallSet } from './call-set';
import type { ResolvedHttp2Options } from './options';
import type { Http2ProxiedCall } from './proxied-call';
import type { SessionPool } from './session-pool';

/** What every call of one proxy shares. */
export interface CallContext {
  readonly director: StreamDirector;
  readonly options: ResolvedHttp2Options;
  readonly pool: SessionPool;
  /** The calls still running, for the drain. */
  readonly calls: CallSet<Http2ProxiedCall>;
}
