import path from 'node:path';
import {
  createRoutingStateFollower,
  havenIdOf,
  readPrivateFile,
  writePrivateFile,
  type Haven,
  type RoutingStateFollower,
  type RoutingStateHealth,
} from '@haven/core';
import type { JoinState } from '../home/join-state.js';

/** Where a running node leaves what it knows of the origin's routing state (no secret in it), for `haven status`. */
export const ROUTING_STATUS_FILE = 'routing-state.status.json';

export interface RoutingFollowStatus {
  /** Epoch ms of the last poll: an old value means the node is not running. */
  at: number;
  haven: string;
  health: RoutingStateHealth;
  nodes?: Array<{ name: string; region?: string; healthy: boolean; load: number }>;
}

export interface RoutingFollow {
  follower: RoutingStateFollower;
  stop(): Promise<void>;
}

/**
 * A node polls the origin's routing state over the VPN (`GET /api/routing-state` on the report
 * listener, which knows the node by its VPN source address) every `intervalMs`, with `If-None-Match`.
 * It asks nothing over the internet. A state for another Haven or an older version is refused.
 */
export function startRoutingFollow(haven: Haven, join: JoinState, o: { intervalMs?: number; maxAgeMs?: number } = {}): RoutingFollow {
  const intervalMs = o.intervalMs ?? 2000;
  const havenId = havenIdOf(join.origin.publicKey);
  const follower = createRoutingStateFollower({ haven: havenId, maxAgeMs: o.maxAgeMs ?? Math.max(6000, intervalMs * 3) });
  const log = haven.logger.child({ area: 'routing-state' });
  const file = path.join(haven.stateDir, ROUTING_STATUS_FILE);
  let etag: string | undefined;
  let lastReason: string | undefined;
  let stopped = false;
  const poll = async () => {
    try {
      const res = await fetch(new URL('/api/routing-state', join.reportUrl), {
        headers: etag ? { 'if-none-match': etag } : {},
        signal: AbortSignal.timeout(Math.max(1000, intervalMs)),
      });
      if (res.status === 304) follower.touch();
      else if (res.ok) {
        const r = follower.accept(await res.json());
        if (r.ok) etag = res.headers.get('etag') ?? undefined;
        else log.warn({ reason: r.reason }, r.message);
      } else {
        await res.body?.cancel();
        log.warn({ status: res.status }, 'the origin refused the routing state to this node');
      }
    } catch {
      // Unreachable for now: the health below turns to origin-lost after maxAgeMs.
    }
    const health = follower.health();
    const reason = health.ok ? 'ok' : health.reason;
    if (reason !== lastReason) {
      if (health.ok) log.info({ version: health.version }, 'routing state from the origin is current');
      else log.warn({ reason }, health.message);
      lastReason = reason;
    }
    const state = follower.state();
    const status: RoutingFollowStatus = {
      at: Date.now(),
      haven: havenId,
      health,
      ...(state ? { nodes: state.nodes.map((n) => ({ name: n.name, ...(n.region ? { region: n.region } : {}), healthy: n.healthy, load: n.load })) } : {}),
    };
    if (!stopped) await writePrivateFile(file, `${JSON.stringify(status)}\n`).catch(() => {});
  };
  let running: Promise<void> = poll();
  const timer = setInterval(() => {
    running = running.then(poll);
  }, intervalMs);
  timer.unref();
  return {
    follower,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running.catch(() => {});
    },
  };
}

/** What the last running node wrote; `running: false` when it has not polled for a while (stopped). */
export async function readRoutingFollowStatus(stateDir: string): Promise<(RoutingFollowStatus & { running: boolean }) | undefined> {
  const raw = await readPrivateFile(path.join(stateDir, ROUTING_STATUS_FILE)).catch(() => undefined);
  if (!raw) return undefined;
  try {
    const s = JSON.parse(raw) as RoutingFollowStatus;
    return { ...s, running: Date.now() - s.at < 15_000 };
  } catch {
    return undefined;
  }
}

/** One line for `haven status` on a node. */
export function routingStatusLine(s: (RoutingFollowStatus & { running: boolean }) | undefined): string {
  if (!s) return 'routing state: none yet (start the node: `haven start`)';
  if (!s.running) return `routing state: the node is not running (last poll ${new Date(s.at).toISOString()})`;
  const h = s.health;
  if (h.ok) {
    const nodes = s.nodes ?? [];
    return `routing state: current (version ${h.version}, ${nodes.filter((n) => n.healthy).length}/${nodes.length} nodes healthy)`;
  }
  return `routing state: ${h.reason}: ${h.message}`;
}
