/**
 * @haven/control: the origin's control plane: the control API and its status page, node reports,
 * and the relay planner (who pulls from whom, served to the nodes through the API). Built on
 * `@haven/core`; no viewer door. The VRChat ingest check it reports is `@haven/ingest`.
 */
// Public surface of the control API. Type names carry an `Api` prefix where a bare name (NodeInfo,
// StatusView...) could clash with other parts of core.
export { createControlApi, DEFAULT_API_LISTEN } from './api/server.js';
export { createNodeReporter, type NodeReporter, type NodeReporterOptions } from './api/node-reporter.js';
export { METRIC_NAMES } from './api/metrics.js';
export { INGEST_METRIC_NAMES } from './api/ingest-metrics.js';
export { nodeReportSchema, type NodeReport } from './api/schemas.js';
export type {
  ControlApi,
  ControlApiDeps,
  ControlApiOptions,
  NodeInfo as ApiNodeInfo,
  RouteExplain as ApiRouteExplain,
  StatusInfo as ApiStatusInfo,
  TokenSource as ApiTokenSource,
} from './api/types.js';
export type {
  DecisionSummary as ApiDecisionSummary,
  DecisionView as ApiDecisionView,
  NodeView as ApiNodeView,
  Snapshot as ApiSnapshot,
  StatusView as ApiStatusView,
  StreamView as ApiStreamView,
  UrlsView as ApiUrlsView,
  ViewersView as ApiViewersView,
} from './api/schemas.js';
export { havenApiDeps, type HavenApiDepsOptions } from './api/haven-deps.js';
export { havenRoutingState } from './api/haven-routing-state.js';
// The relay planner.
export { treeDepth } from './relay/tree.js';
export { createRelayPlanner, type PlannerNode, type RelayAssignment, type RelayPeer, type RelayEdgeView, type RelayParent, type RelayPlanner, type RelayPlannerDeps, type RelayTreeView } from './relay/planner.js';
