import { reportingNode } from './node-identity.js';
import { type NodeEntry, nodeEntrySchema, nodeNameSchema, type SecretName } from '@haven/core';
import type { ApiContext, RouteDef } from './context.js';
import { ApiError, BASE_HEADERS, badRequest } from './http.js';
import { pageRoutes } from './page-routes.js';
import { locateRoute } from './locate-route.js';
import { routingStateRoute } from './routing-state-route.js';
import {
  decisionsQuerySchema,
  decisionsViewSchema,
  decisionSummarySchema,
  nodeAddedSchema,
  nodeRemovedSchema,
  nodeReportSchema,
  nodesViewSchema,
  reportAcceptedSchema,
  nodeSecretsSchema,
  relayAssignmentSchema,
  rotatedSchema,
  rotateRequestSchema,
  playersResetRequestSchema,
  playersResetSchema,
  routeExplainSchema,
  routeRequestSchema,
  statusViewSchema,
  streamsViewSchema,
  urlsViewSchema,
  viewersQuerySchema,
  viewersViewSchema,
  type NodeReport,
} from './schemas.js';
import { nodeView, urlsView } from './views.js';

/** The control API's routes, as data: the server dispatches them and the OpenAPI document lists them. */
export function apiRoutes(api: ApiContext): RouteDef[] {
  const { deps } = api;
  return [
    {
      method: 'GET',
      path: '/api/status',
      auth: 'public',
      tag: 'status',
      summary: 'Stream state, nodes with health, viewers and load, and the links to share (no secrets).',
      response: statusViewSchema,
      handler: () => api.status(),
    },
    {
      method: 'GET',
      path: '/api/nodes',
      auth: 'public',
      tag: 'nodes',
      summary: 'Every node, the origin included.',
      response: nodesViewSchema,
      handler: async () => ({ nodes: (await api.status()).nodes }),
    },
    {
      method: 'POST',
      path: '/api/nodes',
      auth: 'token',
      tag: 'nodes',
      summary: 'Add a node live; only new viewers use it.',
      body: nodeEntrySchema,
      response: nodeAddedSchema,
      status: 201,
      handler: async ({ body }) => {
        const node = await deps.nodes.add(body as NodeEntry);
        return { node: nodeView({ node, health: 'unknown', viewers: 0 }, { reports: api.reports, now: Date.now(), reportTtlMs: api.reportTtlMs }) };
      },
    },
    {
      method: 'DELETE',
      path: '/api/nodes/:name',
      auth: 'token',
      tag: 'nodes',
      summary: 'Remove a node; viewers already on it keep playing.',
      response: nodeRemovedSchema,
      handler: async ({ params }) => {
        const name = nodeNameSchema.safeParse(params.name);
        if (!name.success) throw badRequest(name.error, 'node name');
        if (!(await deps.nodes.remove(name.data))) throw new ApiError(404, 'NODE_UNKNOWN', `no node named "${name.data}"`);
        api.reports.delete(name.data);
        return { removed: name.data };
      },
    },
    {
      method: 'GET',
      path: '/api/streams',
      auth: 'public',
      tag: 'status',
      summary: 'Each stream with readiness, readers and bytes.',
      response: streamsViewSchema,
      handler: async () => ({ streams: (await api.status()).streams }),
    },
    {
      method: 'GET',
      path: '/api/decisions',
      auth: 'public',
      tag: 'routing',
      summary: 'Recent routing decisions, newest first (no viewer IPs).',
      query: decisionsQuerySchema,
      response: decisionsViewSchema,
      handler: async ({ query }) => ({ decisions: api.decisions.recent((query as { limit: number }).limit) }),
    },
    {
      method: 'GET',
      path: '/api/decisions/summary',
      auth: 'public',
      tag: 'routing',
      summary: 'Routing decisions since start, counted by node, reason, mode and country.',
      response: decisionSummarySchema,
      handler: async () => api.decisions.summary(),
    },
    {
      method: 'GET',
      path: '/api/viewers',
      auth: 'public',
      tag: 'routing',
      summary: 'Viewer places (city or country) within a time window, for the map. No IPs.',
      query: viewersQuerySchema,
      response: viewersViewSchema,
      handler: async ({ query }) => api.decisions.viewers((query as { windowSec?: number }).windowSec ?? api.viewerWindowSec),
    },
    {
      method: 'POST',
      path: '/api/route',
      auth: 'token',
      tag: 'routing',
      summary: 'Dry run: where would this viewer go, and why? Nothing is counted or stored; unknown streams answer 404.',
      body: routeRequestSchema,
      response: routeExplainSchema,
      handler: async ({ body }) => {
        const input = body as { ip: string; userAgent?: string; stream?: string };
        const served = (await deps.status()).streams.map((s) => s.name);
        const stream = input.stream ?? served[0];
        if (!stream) throw new ApiError(409, 'NO_STREAM', 'the Haven serves no stream');
        if (!served.includes(stream)) throw new ApiError(404, 'STREAM_UNKNOWN', `no stream named "${stream.slice(0, 64)}"; served: ${served.join(', ')}`);
        const req: { ip: string; userAgent?: string; stream: string } = { ip: input.ip, stream };
        if (input.userAgent !== undefined) req.userAgent = input.userAgent;
        return deps.route(req);
      },
    },
    {
      method: 'POST',
      path: '/api/secrets/rotate',
      auth: 'token',
      tag: 'secrets',
      summary: 'Replace a secret with a new random value; the new value is never in the answer.',
      body: rotateRequestSchema,
      response: rotatedSchema,
      handler: async ({ body }) => {
        const { name } = body as { name: SecretName };
        await deps.rotateSecret(name);
        return { rotated: name };
      },
    },
    {
      method: 'POST',
      path: '/api/players/reset',
      auth: 'token',
      tag: 'routing',
      summary: 'Forget what the gateway learned about one player (by User-Agent) or about all: its counts and any learned verdict.',
      body: playersResetRequestSchema,
      response: playersResetSchema,
      handler: async ({ body }) => {
        if (!deps.resetPlayers) throw new ApiError(501, 'NOT_AVAILABLE', 'this Haven keeps nothing learned about players');
        const { userAgent } = body as { userAgent?: string };
        const cleared = await deps.resetPlayers(userAgent);
        return { cleared, ...(userAgent !== undefined ? { userAgent } : {}) };
      },
    },
    {
      method: 'GET',
      path: '/api/urls',
      auth: 'token',
      tag: 'secrets',
      summary: 'Publish URLs (with the stream key) and viewer URLs (with the viewer password).',
      response: urlsViewSchema,
      handler: async () => {
        if (!deps.secrets) throw new ApiError(501, 'NOT_AVAILABLE', 'this Haven does not expose its secrets through the API');
        return urlsView(await deps.status(), deps.secrets(), api.users);
      },
    },
    {
      method: 'POST',
      path: '/api/node-report',
      auth: 'report',
      tag: 'nodes',
      summary: "A node reports its readers and bytes (over the VPN), so the origin's view is complete.",
      body: nodeReportSchema,
      response: reportAcceptedSchema,
      handler: async ({ body, req, node }) => {
        const report = body as NodeReport;
        // The sender is the node its VPN source address or its own credential names, never the body alone.
        if (node !== undefined && report.node !== node) throw new ApiError(403, 'NODE_MISMATCH', `this call comes from node "${node}", not "${report.node.slice(0, 64)}"`);
        reportingNode((await deps.status()).nodes.map((n) => n.node), report.node, req.socket.remoteAddress, node);
        // Kept for views: counts only (arrivals are viewer addresses; they go to the learner alone).
        api.reports.set(report.node, { report: { ...report, streams: report.streams.map(({ arrivals: _a, ...s }) => s) }, at: Date.now() });
        api.metrics.report(report);
        deps.nodeReport?.(report);
        api.hub.notify();
        return { accepted: true };
      },
    },
    {
      method: 'GET',
      path: '/api/node-secrets',
      auth: 'report',
      tag: 'nodes',
      summary:
        "Nodes fetch the current viewer credentials over the VPN, so a password rotation reaches them; a node recognised by its own credential (its VPN address or its own bearer) gets that credential too (`relayPassword`: its report bearer and relay pull password, derived for it alone).",
      response: nodeSecretsSchema,
      handler: async ({ node }) => {
        if (!deps.secrets) throw new ApiError(501, 'NOT_AVAILABLE', 'this Haven does not share secrets with nodes');
        const s = deps.secrets();
        const viewerPassword = deps.withholdViewerPassword?.() ? '' : s.viewerPassword;
        const own = node === undefined ? undefined : deps.nodeCredential?.(node);
        return { viewerUser: api.users.viewer, viewerPassword, ...(own ? { relayPassword: own } : {}) };
      },
    },
    routingStateRoute(api),
    locateRoute(api),
    {
      method: 'GET',
      path: '/api/relay',
      auth: 'report',
      tag: 'nodes',
      summary: "A node's relay parent (where its media server pulls the stream over the VPN) and the nodes it peers with directly; the node is recognised by its own credential (its VPN address).",
      response: relayAssignmentSchema,
      handler: async ({ node }) => {
        if (!deps.relayAssignment) throw new ApiError(501, 'NOT_AVAILABLE', 'this Haven plans no relay tree');
        if (node === undefined) throw new ApiError(403, 'NODE_UNKNOWN', 'call this from a node over the VPN: its VPN address names it');
        return deps.relayAssignment(node);
      },
    },
    {
      method: 'GET',
      path: '/api/events',
      auth: 'public',
      tag: 'status',
      summary: 'Server-Sent Events: a `snapshot` event (schema Snapshot) on connect and after each change.',
      produces: 'text/event-stream',
      handler: async ({ req, res }) => {
        if (!api.hub.accept(req, res)) throw new ApiError(503, 'TOO_MANY_CLIENTS', 'too many live clients; try again later', undefined, { 'retry-after': '10' });
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      auth: 'public',
      tag: 'metrics',
      summary: 'Prometheus metrics (text exposition format).',
      produces: 'text/plain',
      handler: async ({ res }) => {
        const text = await api.metrics.registry.metrics();
        res.writeHead(200, { ...BASE_HEADERS, 'content-type': api.metrics.registry.contentType, 'cache-control': 'no-store' });
        res.end(text);
      },
    },
    {
      method: 'GET',
      path: '/api/openapi.json',
      auth: 'public',
      tag: 'meta',
      summary: 'This API as an OpenAPI 3.1 document, generated from its zod schemas.',
      handler: async () => api.openapi(),
    },
    ...pageRoutes(),
  ];
}
