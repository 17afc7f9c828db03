// @rovkit/monitor: the `rovkit monitor` daemon as a library, and the interfaces that
// route and VRP sources (the BMP listener and MRT reader of issue 6) plug into.
export { Monitor, VERSION, type MonitorDeps } from './monitor.js';
export { loadConfig, HELP, OPTIONS, BUNDLED_ROUTES, BUNDLED_VRPS, type MonitorConfig } from './config.js';
export {
  Engine,
  AFIS,
  STATES,
  STATE_OF_CODE,
  type EngineListener,
  type EngineOptions,
  type StateName,
  type VrpSourceStats,
} from './engine/engine.js';
export { RouteStore, MAX_SOURCES, ORIGIN_SET } from './routes/route-store.js';
export type { RouteSink, RouteSource } from './routes/route-source.js';
export type { VrpSink, VrpSource } from './sources/vrp-source.js';
export {
  parseRouteList,
  routeListFormat,
  type RouteEntry,
  type RouteListFormat,
} from './routes/route-list.js';
export { RouteListSource, type RouteListSourceOptions } from './sources/route-list-source.js';
export { VrpFileSource, type VrpFileSourceOptions } from './sources/vrp-file-source.js';
export {
  RtrSource,
  CACHE_STATES,
  type CacheState,
  type RtrCacheStatus,
  type RtrSourceOptions,
  type RtrTlsOptions,
} from './sources/rtr-source.js';
export { MrtRouteSource, type MrtRouteSourceOptions } from './sources/mrt-source.js';
export { createMetrics, type MetricsOptions, type MetricsSources } from './metrics.js';
export { Alerter, type Alert, type AlertKind, type AlertSink, type AlerterOptions } from './alerts.js';
export { JsonLogger, type Logger, type LineOutput, type LogLevel } from './log.js';
export { DEFAULT_PORT, HttpServer, type HttpHandlerDeps } from './http/server.js';
export {
  ConfigError,
  ListenError,
  MonitorError,
  RouteFileError,
  StoreFullError,
  type MonitorErrorCode,
} from './errors.js';
