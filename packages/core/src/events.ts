import { EventEmitter } from 'eventemitter3';
import type { HavenNode, NodeHealthState, ProbeResult, SecretName, SelectionReason } from './contracts.js';
import type { HavenError } from './errors.js';

/** How a routed viewer was handed over. */
export type RouteMode = 'redirect' | 'splice' | 'hls-playlist' | 'hls-redirect';

export interface ViewerRoutedEvent {
  /** The viewer's IP. Status output aggregates by place; raw IPs stay in logs/metrics labels out. */
  ip: string;
  stream: string;
  node: string;
  mode: RouteMode;
  reason: SelectionReason | 'policy-splice' | 'probe-failed-next' | 'learned-local' | 'pinned-local' | 'same-connection' | 'token';
  userAgent?: string;
  /** How the viewer proved the password at the gateway (RTSP). */
  auth?: 'basic' | 'digest';
  country?: string;
  city?: string;
  distanceKm?: number;
  /** Time from the full first request to the decision, in ms. */
  decisionMs: number;
}

/** Every event the Haven emits, with its payload. */
export interface HavenEvents {
  'publisher:up': [{ stream: string }];
  'publisher:down': [{ stream: string }];
  'node:up': [{ node: HavenNode }];
  'node:down': [{ node: HavenNode; reason?: string }];
  'node:added': [{ node: HavenNode }];
  'node:removed': [{ name: string }];
  'viewer:routed': [ViewerRoutedEvent];
  'viewer:served': [{ ip: string; stream: string; node: string; bytes?: number }];
  'viewer:refused': [{ ip: string; reason: 'auth' | 'rate-limited' | 'bad-request' | 'not-found' | 'no-node' | 'basic-refused' }];
  'health:changed': [{ node: string; from: NodeHealthState; to: NodeHealthState; result: ProbeResult }];
  'health:probed': [{ node: string; result: ProbeResult }];
  'secrets:rotated': [{ name: SecretName }];
  'config:applied': [{ added: string[]; removed: string[]; changed: string[] }];
  'plugin:started': [{ name: string }];
  'plugin:stopped': [{ name: string }];
  /** A plugin's supervised process restarted (MediaMTX, wireguard-go...). */
  'process:restarted': [{ plugin: string; process: string; attempt: number; pid?: number }];
  error: [{ error: HavenError; source: string }];
}

export class HavenEmitter extends EventEmitter<HavenEvents> {}
