// A fake ControlApiDeps: the API server is the unit under test, so the Haven behind it is a small
// in-memory stand-in whose state the tests change and whose events they emit.
import { HavenEmitter, HavenError, createLogger, type HavenNode, type HavenSecrets, type NodeEntry, type SecretName } from '@haven/core';
import { type ApiNodeInfo, type ApiStatusInfo, type ControlApiDeps, type NodeReport } from '@haven/control';
import { FollowLearner } from '@haven/gateway';

export const TOKEN = 'test-control-token-0123456789';
export const REPORT_TOKEN = 'test-relay-credential-abcdefghij';

export const SECRETS: HavenSecrets = {
  streamKey: 'StreamKey0123456789abcdefABCDEF',
  viewerPassword: 'ViewerPass0123456789',
  relayPassword: 'RelayPass0123456789abcdefghijklmnopqrstuv',
};

export interface FakeHaven {
  deps: ControlApiDeps;
  events: HavenEmitter;
  nodes: Map<string, ApiNodeInfo>;
  streams: ApiStatusInfo['streams'];
  rotated: SecretName[];
  reports: NodeReport[];
  /** What the gateway learned about players (a real learner; the status shows its snapshot). */
  learner: FollowLearner;
  /** Move the learner's clock. */
  tick(ms: number): void;
  /** Mark a node down the way the health monitor would: update state and emit the events. */
  setHealth(name: string, to: 'up' | 'down'): void;
}

export function makeNode(name: string, extra: Partial<HavenNode> = {}): HavenNode {
  return { name, location: { lat: 0, lon: 0 }, rtspUrl: `rtsp://127.0.0.${name.length}:8554`, capacity: 0, ...extra };
}

export function fakeHaven(): FakeHaven {
  const events = new HavenEmitter();
  const origin = makeNode('origin', {
    origin: true,
    region: 'eu-central',
    location: { lat: 50.11, lon: 8.68 },
    rtspUrl: 'rtsp://203.0.113.10:8554',
    hlsUrl: 'http://203.0.113.10:8888',
    capacity: 20,
  });
  const east = makeNode('us-east-1', {
    region: 'us-east',
    location: { lat: 38.9, lon: -77.04 },
    rtspUrl: 'rtsp://198.51.100.7:8554',
    hlsUrl: 'http://198.51.100.7:8888',
    capacity: 10,
    vpnAddress: '10.77.0.2',
  });
  const nodes = new Map<string, ApiNodeInfo>([
    ['origin', { node: origin, health: 'up', viewers: 3, lastProbe: { at: Date.now(), result: { up: true, ready: true, rttMs: 0.4 } } }],
    ['us-east-1', { node: east, health: 'up', viewers: 4, lastProbe: { at: Date.now(), result: { up: true, ready: true, rttMs: 92.5 } } }],
  ]);
  const streams: ApiStatusInfo['streams'] = [{ name: 'live', ready: true, readers: 4, bytesIn: 123456, bytesOut: 654321, tracks: ['H264', 'MPEG-4 Audio'], sourceType: 'rtmpConn' }];
  const rotated: SecretName[] = [];
  const reports: NodeReport[] = [];
  let now = Date.now();
  const learner = new FollowLearner({ deadlineMs: () => 1000, minSamples: () => 3, minFollowRate: () => 0.5, pinLocal: () => [], pinRedirect: () => [], now: () => now });

  const deps: ControlApiDeps = {
    events,
    async status() {
      return {
        name: 'origin',
        state: 'running',
        startedAt: Date.now() - 65_000,
        streams,
        nodes: [...nodes.values()],
        gateway: { rtspUrl: 'rtsp://203.0.113.10:8554', hlsUrl: 'http://203.0.113.10:8888' },
        ingest: { rtmp: '203.0.113.10:1935', srt: '203.0.113.10:8890' },
        ...(learner.snapshot().length > 0 ? { players: learner.snapshot() } : {}),
      };
    },
    nodes: {
      async add(entry: NodeEntry) {
        if (nodes.has(entry.name)) {
          throw new HavenError(`a node named "${entry.name}" is already registered`, { code: 'NODE_DUPLICATE' });
        }
        const node = makeNode(entry.name, {
          rtspUrl: entry.rtsp,
          capacity: entry.capacity,
          location: { lat: entry.lat ?? 0, lon: entry.lon ?? 0 },
          ...(entry.region ? { region: entry.region } : {}),
        });
        nodes.set(entry.name, { node, health: 'unknown' });
        events.emit('node:added', { node });
        return node;
      },
      async remove(name: string) {
        if (name === 'origin') throw new HavenError('the origin cannot be removed', { code: 'CONFIG_INVALID' });
        const had = nodes.delete(name);
        if (had) events.emit('node:removed', { name });
        return had;
      },
    },
    async route(input) {
      return {
        stream: input.stream,
        viewer: { lat: 40.7, lon: -74, country: 'US', city: 'New York' },
        mode: input.userAgent?.startsWith('Lavf') ? 'redirect' : 'splice',
        reason: 'nearest',
        node: 'us-east-1',
        target: `rtsp://198.51.100.7:8554/${input.stream}`,
        candidates: [
          { node: 'us-east-1', health: 'up', load: 4, distanceKm: 330 },
          { node: 'origin', health: 'up', load: 3, distanceKm: 6200 },
        ],
      };
    },
    async rotateSecret(name) {
      rotated.push(name);
    },
    async resetPlayers(userAgent) {
      return learner.reset(userAgent);
    },
    secrets: () => ({ ...SECRETS }),
    locate(ip) {
      if (ip.startsWith('203.0.113.')) return { lat: 35.6895, lon: 139.6917, country: 'JP', city: 'Tokyo' };
      if (ip.startsWith('198.51.100.')) return { lat: 40.7128, lon: -74.006, country: 'US', city: 'New York' };
      return undefined;
    },
    nodeReport(report) {
      reports.push(report);
    },
  };

  return {
    deps,
    events,
    nodes,
    streams,
    rotated,
    reports,
    learner,
    tick: (ms) => (now += ms),
    setHealth(name, to) {
      const info = nodes.get(name);
      if (!info) throw new Error(`no node ${name}`);
      const from = info.health;
      const result = to === 'up' ? { up: true, ready: true, rttMs: 12 } : { up: false, ready: false, rttMs: 0, reason: 'ECONNREFUSED' };
      info.health = to;
      info.lastProbe = { at: Date.now(), result };
      if (to === 'down') info.viewers = 0;
      events.emit('health:changed', { node: name, from, to, result });
      events.emit(to === 'up' ? 'node:up' : 'node:down', { node: info.node });
    },
  };
}

/** A logger that writes nowhere (tests read the API's answers, not its log lines). */
export function quietLogger() {
  return createLogger({ level: 'silent' });
}
