// Public surface of the control API. Type names carry an `Api` prefix where a bare name (NodeInfo,
// StatusView...) could clash with other parts of core.
export { createControlApi, DEFAULT_API_LISTEN } from './server.js';
export { createNodeReporter, type NodeReporter, type NodeReporterOptions } from './node-reporter.js';
export { METRIC_NAMES } from './metrics.js';
export { INGEST_METRIC_NAMES } from './ingest-metrics.js';
export { nodeReportSchema, type NodeReport } from './schemas.js';
export type {
  ControlApi,
  ControlApiDeps,
  ControlApiOptions,
  NodeInfo as ApiNodeInfo,
  RouteExplain as ApiRouteExplain,
  StatusInfo as ApiStatusInfo,
  TokenSource as ApiTokenSource,
} from './types.js';
export type {
  DecisionSummary as ApiDecisionSummary,
  DecisionView as ApiDecisionView,
  NodeView as ApiNodeView,
  Snapshot as ApiSnapshot,
  StatusView as ApiStatusView,
  StreamView as ApiStreamView,
  UrlsView as ApiUrlsView,
  ViewersView as ApiViewersView,
} from './schemas.js';
export { havenApiDeps, type HavenApiDepsOptions } from './haven-deps.js';
export { havenRoutingState } from './haven-routing-state.js';
