import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import type { Logger } from '@haven/core';
import type { DecisionLog } from './decisions.js';
import type { HavenMetrics } from './metrics.js';
import type { Snapshot, StatusView } from './schemas.js';
import type { LiveHub } from './sse.js';
import type { ControlApiDeps, TokenSource } from './types.js';
import type { ReportEntry } from './views.js';

/** Everything a route handler may use; built once by the server. */
export interface ApiContext {
  deps: ControlApiDeps;
  logger: Logger;
  decisions: DecisionLog;
  reports: Map<string, ReportEntry>;
  metrics: HavenMetrics;
  hub: LiveHub;
  tokens: { control: TokenSource; report?: TokenSource };
  users: { viewer: string; publisher: string };
  maxBodyBytes: number;
  viewerWindowSec: number;
  reportTtlMs: number;
  status(): Promise<StatusView>;
  snapshot(): Promise<Snapshot>;
  /** The OpenAPI document (built once, on first request). */
  openapi(): Record<string, unknown>;
}

/** Who may call a route: anyone, the control token, or a node's report token (or the control token). */
export type RouteAuth = 'public' | 'token' | 'report';

export interface HandlerInput {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  body: unknown;
  query: unknown;
  /** The node that made this call, when it was recognised by its own credential (its VPN address). */
  node?: string;
}

export interface RouteDef {
  method: 'GET' | 'POST' | 'DELETE';
  /** `/api/nodes/:name` style. */
  path: string;
  auth: RouteAuth;
  summary: string;
  tag: string;
  /** Request body schema; the body is parsed with it before the handler runs (400 on failure). */
  body?: z.ZodType;
  /** Query schema (400 on failure). */
  query?: z.ZodType;
  /** Success body schema; what the handler returns is parsed with it (unknown fields stripped). */
  response?: z.ZodType;
  /** Success status. Default 200. */
  status?: number;
  /** Media type of a non-JSON answer the handler writes itself (metrics, events, page). */
  produces?: string;
  handler(input: HandlerInput): Promise<unknown>;
}
