export { mediamtx, resolveBinary, resolveListeners, ORIGIN_HLS_ADDRESS, ORIGIN_RTSP_ADDRESS, ORIGIN_RTSP_PORT, type MediamtxInstance } from './plugin.js';
export { mediamtxOptionsSchema, parseOptions, type MediamtxOptions, type MediamtxOptionsInput } from './options.js';
export { MediamtxErrorCodes, type MediamtxErrorCode } from './errors.js';
export { MediaMtxServer, type MediaMtxServerInit } from './server.js';
export { MediaMtxApi, apiStatus, type ApiClientOptions, type KickKind } from './api.js';
export type { MtxConn, MtxInfo, MtxList, MtxPath, MtxPathConf, MtxRtspSession } from './api-schemas.js';
export { AuthHookServer, type AuthFailure, type AuthHookOptions } from './auth-hook.js';
export {
  decide,
  FailureCounter,
  secretEquals,
  type AuthDecision,
  type AuthIdentity,
  type AuthPolicy,
  type AuthRequest,
  type DenyReason,
  type FailureEntry,
} from './auth-policy.js';
export { Supervisor, type SupervisorOptions, type ExitInfo } from './supervisor.js';
export { renderConfig, renderPath, relaySourceUrl, toYaml, PUBLISHER_USER, RELAY_USER, type RenderInput, type Role } from './render.js';
export { SubnetMatcher, sanitize } from './net.js';
export { convergePaths, diffPaths, CONVERGE_WAIT_MS, type PathDiff } from './converge.js';
export { ingestPath, INGEST_PREFIX } from './audio-fix.js';
export { INTERNAL_USER } from './internal-access.js';
export { checkViewerToken } from './token-check.js';
export { TlsManager, type TlsState, type TlsStatus } from './tls/manager.js';
export { ChallengeResponder, CHALLENGE_PREFIX } from './tls/challenge.js';
export { HttpsDoor, type HttpsEntryRouting } from './tls/https-door.js';
export { tlsOptionsSchema, LETS_ENCRYPT_DIRECTORY, type TlsOptions, type TlsOptionsInput } from './tls/options.js';
export { certInfo, checkCertificate, type CertInfo, type CertProblem } from './tls/cert-info.js';
export { placeholderPem as placeholderCertificate } from './tls/store.js';
