// @rovkit/monitor: the `rovkit monitor` daemon as a library, the interfaces that route
// and VRP sources plug into, and the route feeds (BMP listener, MRT reader) with the
// analyses they make possible (ROV enforcement, fallback of Invalid routes).
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
export { BmpRouteSource, DEFAULT_BMP_RIBS, type BmpRouteSourceOptions } from './sources/bmp-source.js';
export {
  analyseBmp,
  EMPTY_BMP_ANALYSIS,
  peerLabel,
  routerLabels,
  type BmpAnalysis,
  type InvalidSeen,
  type PeerAnalysis,
  type RouterAnalysis,
  type RovEvidence,
} from './sources/bmp-analysis.js';
export {
  OWN_GROUP,
  ROUTE_SELECTIONS,
  RouteClassifier,
  type ListedPrefix,
  type RouteSelection,
} from './routes/route-classifier.js';
export { RouteRefs } from './routes/route-refs.js';
export {
  analyseFallback,
  Fallback,
  FALLBACKS,
  type FallbackName,
  type FallbackResult,
} from './engine/fallback.js';
export * from './feeds/bmp/index.js';
export { createMetrics, type MetricsOptions, type MetricsSources } from './metrics.js';
export { Alerter, type Alert, type AlertKind, type AlertSink, type AlerterOptions } from './alerts.js';
export { JsonLogger, type Logger, type LineOutput, type LogLevel } from './log.js';
export { DEFAULT_PORT, HttpServer, type HttpHandlerDeps } from './http/server.js';
export { DEFAULT_HTTP_LIMITS, type HttpLimits } from './http/limits.js';
export {
  invalidFallback,
  rovEnforcement,
  type InvalidFallbackJson,
  type RovEnforcementJson,
} from './http/api.js';
export {
  ConfigError,
  ListenError,
  MonitorError,
  RouteFileError,
  StoreFullError,
  type MonitorErrorCode,
} from './errors.js';
export {
  bunzip2,
  bunzip2Parallel,
  Bzip2Pool,
  Bzip2Workspace,
  decompress,
  DecompressError,
  sharedBzip2Pool,
  type Compression,
  type DecompressErrorCode,
} from './compress/index.js';
