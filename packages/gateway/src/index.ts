/**
 * @haven/gateway: the Haven's viewer doors (RTSP, HLS, HTTPS entry), viewer auth and tokens, player
 * learning, budgets, and the composition that wires them to core's routing model. An app hands
 * `gatewayServices` to `createHaven`; an entry node builds `createEntryRouting`.
 */
export { gatewayServices } from './compose/services.js';
export { createOriginRouting, createNodeRouting, type OriginRoutingDeps, type NodeRoutingDeps, type RoutingStack } from './compose/origin.js';
export { createEntryRouting, type EntryRouting, type EntryRoutingDeps } from './compose/entry.js';
export { rtspProbe, rtspAliveProbe, type RtspHealthProbe, type RtspProbeOptions } from './rtsp/probe.js';
export { KeptProbeConnections, type KeptProbeStats } from './rtsp/kept-probes.js';
export { getHeader as rtspHeader } from './rtsp/parser.js';
export { RtspAuthenticator, digestResponse, parseAuthParams, type AuthResult, type RtspAuthOptions, type ViewerCredentials } from './auth/digest.js';
export { FailureLimiter, type FailureLimiterOptions } from './budget/rate-limit.js';
export { parseResponse, RtspClientConnection, type RtspResponse } from './rtsp/client.js';
export { createRtspGateway, type RtspGateway, type RtspGatewayLimits, type RtspGatewayOptions, type RtspGatewayStats } from './rtsp/gateway.js';
export { createHttpsGateway, type HttpsGateway, type HttpsGatewayOptions, type HttpsTarget } from './https/gateway.js';
export { createHlsGateway, type HlsGateway, type HlsGatewayOptions } from './hls/gateway.js';
export { createRelayDoor, type RelayDoor, type RelayDoorOptions } from './relay-door.js';
export {
  signViewerToken,
  verifyViewerToken,
  tokenOfQuery,
  TOKEN_PARAM,
  TOKEN_USER,
  MAX_TOKEN_TTL_SEC,
  type TokenVerdict,
  type ViewerTokenClaims,
} from './auth/token.js';
export { FollowLearner, type AuthScheme, type FollowLearnerOptions, type PlayerEvidence, type PlayerRecord } from './players/follow-learning.js';
export {
  ConnectionBudget,
  gatewayBudget,
  type Admission,
  type ConnectionBudgetOptions,
  type ConnectionBudgetStats,
  type GatewayBudgetLimits,
  type RefusalReason,
  type ShedReason,
} from './budget/budget.js';
export { budgetHttpDoor, type HttpDoorBudgetOptions } from './budget/budget-http.js';
