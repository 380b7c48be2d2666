// The Haven's public doors (RTSP, HLS, HTTPS entry; the ACME responder uses their budget): the public surface.
export {
  parseRequest,
  chunkNeedsParse,
  getHeader as rtspHeader,
  getHeaders as rtspHeaders,
  DEFAULT_RTSP_LIMITS,
  type RtspLimits,
  type RtspRequest,
  type ParseOutcome,
} from './rtsp/parser.js';
export { RtspAuthenticator, digestResponse, parseAuthParams, type AuthResult, type RtspAuthOptions, type ViewerCredentials } from './rtsp/auth.js';
export { FailureLimiter, type FailureLimiterOptions } from './rtsp/rate-limit.js';
export { proxyV1Header } from './rtsp/proxy-protocol.js';
export { parseResponse, RtspClientConnection, type RtspResponse, type ResponseOutcome } from './rtsp/client.js';
export { createRtspGateway, type RtspGateway, type RtspGatewayLimits, type RtspGatewayOptions, type RtspGatewayStats } from './rtsp/gateway.js';
export { createHttpsGateway, type HttpsGateway, type HttpsGatewayOptions, type HttpsTarget } from './https/gateway.js';
export { createHlsGateway, type HlsGateway, type HlsGatewayOptions } from './hls/gateway.js';
export { absolutizePlaylist } from './hls/playlist.js';
export { createRelayDoor, type RelayDoor, type RelayDoorOptions } from './relay-door.js';
export {
  ViewerTokenKey,
  tokenKeyId,
  isTokenPublicKey,
  signViewerToken,
  verifyViewerToken,
  tokenOfQuery,
  TOKEN_PARAM,
  TOKEN_USER,
  MAX_TOKEN_TTL_SEC,
  type TokenVerdict,
  type ViewerTokenClaims,
} from './token.js';
export { loadTokenKey, TOKEN_KEY_FILE } from './token-key-file.js';
export { FollowLearner, type FollowLearnerOptions, type PlayerRecord, type PlayerView, type AuthScheme } from './follow-learning.js';
export {
  ConnectionBudget,
  gatewayBudget,
  type Admission,
  type ConnectionBudgetOptions,
  type ConnectionBudgetStats,
  type GatewayBudgetLimits,
  type RefusalReason,
  type ShedReason,
} from './budget.js';
export { budgetHttpDoor, type HttpDoorBudgetOptions } from './budget-http.js';
export { TokenBuckets, type TokenBucketsOptions } from './token-buckets.js';
