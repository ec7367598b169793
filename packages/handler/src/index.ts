export type {
  Backend,
  CallObserver,
  CallReport,
  CallStartInfo,
  ProxyCall,
  Route,
  RouteBackend,
  StreamDirector,
} from './contracts';
export { ProxyStatusError } from './status-error';
