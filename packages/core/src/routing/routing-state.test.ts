import { describe, expect, it } from 'vitest';
import {
  createRoutingStateFollower,
  createRoutingStatePublisher,
  digestHa1,
  entryCandidates,
  havenIdOf,
  type RoutingStateBody,
} from './routing-state.js';
import { selectNearest } from './selector.js';
import { createHash } from 'node:crypto';
import { ViewerTokenKey } from '../token-key.js';
import { credentialVerifier, nodeCredential } from '../node-credential.js';

const HAVEN = havenIdOf('b3JpZ2luLXB1YmxpYy1rZXktZm9yLXRlc3RzLTAwMDA=');
const FRANKFURT = { lat: 50.11, lon: 8.68 };
const VIRGINIA = { lat: 38.9, lon: -77.04 };

function body(over: Partial<RoutingStateBody> = {}): RoutingStateBody {
  return {
    nodes: [
      { name: 'fra', region: 'eu-central', location: FRANKFURT, rtspUrl: 'rtsp://198.51.100.7:8554', healthy: true, capacity: 0, load: 1, entry: true },
      { name: 'iad', region: 'us-east', location: VIRGINIA, rtspUrl: 'rtsp://203.0.113.9:8554', healthy: true, capacity: 0, load: 0, entry: true },
    ],
    viewer: { user: 'viewer', realm: 'Stream Haven', ha1: digestHa1('viewer', 'Stream Haven', 'correct horse') },
    players: [{ userAgent: 'LibVLC/3.0.20', served: 'redirect' }],
    ...over,
  };
}

describe('routing state', () => {
  it('a Haven id is 16 hex of the origin key, different per origin', () => {
    expect(HAVEN).toMatch(/^[0-9a-f]{16}$/);
    expect(havenIdOf('another-key')).not.toBe(HAVEN);
  });

  it('HA1 is the RFC 2617 hash of user, realm and password: no clear password in the state', () => {
    const ha1 = digestHa1('viewer', 'Stream Haven', 'correct horse');
    expect(ha1).toBe(createHash('md5').update('viewer:Stream Haven:correct horse').digest('hex'));
    expect(ha1).not.toContain('correct');
  });

  it('the publisher bumps the version only when the content changes', () => {
    let t = 1_000;
    let b = body();
    const pub = createRoutingStatePublisher({ haven: HAVEN, build: () => b, now: () => t });
    const v1 = pub.current().version;
    t += 5;
    expect(pub.current().version).toBe(v1);
    expect(pub.etag()).toBe(`"${HAVEN}-${v1}"`);
    b = body({ players: [] });
    const v2 = pub.current().version;
    expect(v2).toBeGreaterThan(v1);
  });

  it('the follower takes newer states and refuses another Haven, an older version and garbage', () => {
    let t = 10_000;
    const f = createRoutingStateFollower({ haven: HAVEN, maxAgeMs: 6_000, now: () => t });
    expect(f.health()).toMatchObject({ ok: false, reason: 'never-received' });
    const pub = createRoutingStatePublisher({ haven: HAVEN, build: () => body(), now: () => t });
    const s = pub.current();
    expect(f.accept(s)).toEqual({ ok: true, changed: true });
    expect(f.accept(s)).toEqual({ ok: true, changed: false });
    expect(f.health()).toMatchObject({ ok: true, version: s.version });

    const other = { ...s, haven: havenIdOf('someone-else'), version: s.version + 10 };
    const r1 = f.accept(other);
    expect(r1).toMatchObject({ ok: false, reason: 'wrong-haven' });
    expect(f.state()?.haven).toBe(HAVEN);
    expect(f.health()).toMatchObject({ ok: false, reason: 'wrong-haven' });

    const r2 = f.accept({ ...s, version: s.version - 1 });
    expect(r2).toMatchObject({ ok: false, reason: 'stale-version' });
    expect((r2 as { message: string }).message).toContain(String(s.version));
    expect(f.state()?.version).toBe(s.version);

    const r3 = f.accept({ ...s, viewer: { ...s.viewer, ha1: 'clear password' } });
    expect(r3).toMatchObject({ ok: false, reason: 'invalid' });
    expect((r3 as { message: string }).message).toContain('viewer.ha1');
    expect((r3 as { message: string }).message).not.toContain('clear password');

    expect(f.accept({ ...s, version: s.version + 1 })).toEqual({ ok: true, changed: true });
    expect(f.health()).toMatchObject({ ok: true });
  });

  it('a node older than its origin drops the parts of the state it does not know, and follows the rest', () => {
    const f = createRoutingStateFollower({ haven: HAVEN, maxAgeMs: 6_000, now: () => 10_000 });
    const s = createRoutingStatePublisher({ haven: HAVEN, build: () => body(), now: () => 10_000 }).current();
    const newer = { ...s, somethingNew: { a: 1 }, nodes: s.nodes.map((n) => ({ ...n, futureField: true })) };
    expect(f.accept(newer)).toEqual({ ok: true, changed: true });
    expect(f.state()).not.toHaveProperty('somethingNew');
    expect(f.state()?.nodes[0]).not.toHaveProperty('futureField');
    expect(f.state()?.nodes.map((n) => n.name)).toEqual(['fra', 'iad']);
  });

  it('an entry that lost the origin stops sending viewers to itself', () => {
    let t = 50_000;
    const f = createRoutingStateFollower({ haven: HAVEN, maxAgeMs: 6_000, now: () => t });
    f.accept(createRoutingStatePublisher({ haven: HAVEN, build: () => body(), now: () => t }).current());
    const nearFra = { lat: 48.86, lon: 2.35 };
    const fresh = entryCandidates(f.state(), 'fra', f.health().ok);
    expect(selectNearest({ viewer: nearFra, candidates: fresh }).ordered[0]?.node.name).toBe('fra');
    t += 3_000;
    f.touch();
    t += 5_000;
    expect(f.health()).toMatchObject({ ok: true });
    t += 2_000;
    const h = f.health();
    expect(h).toMatchObject({ ok: false, reason: 'origin-lost' });
    expect(h.ok ? '' : h.message).toContain('sends no viewer to itself');
    const lost = entryCandidates(f.state(), 'fra', f.health().ok);
    expect(lost.map((c) => c.node.name)).toEqual(['iad']);
    expect(selectNearest({ viewer: nearFra, candidates: lost }).ordered[0]?.node.name).toBe('iad');
  });

  it('the origin\'s geo overrides travel as places; a malformed place refuses the state', () => {
    const f = createRoutingStateFollower({ haven: HAVEN, maxAgeMs: 6_000 });
    const places = [{ cidr: '172.31.2.0/24', region: 'ap-northeast', city: 'place-b' }, { cidr: '10.9.0.0/16', lat: 48.86, lon: 2.35 }];
    const s = createRoutingStatePublisher({ haven: HAVEN, build: () => body({ places }) }).current();
    expect(f.accept(s)).toEqual({ ok: true, changed: true });
    expect(f.state()?.places).toEqual(places);
    const bad = f.accept({ ...s, version: s.version + 1, places: [{ cidr: '172.31.2.0/24', lat: 200, lon: 0 }] });
    expect(bad).toMatchObject({ ok: false, reason: 'invalid' });
    expect((bad as { message: string }).message).toContain('places.0.lat');
    expect(f.state()?.places).toEqual(places);
  });

  it("whom entries trust travels with the state: each node's token key and pull verifier, and the origin's key", () => {
    const f = createRoutingStateFollower({ haven: HAVEN, maxAgeMs: 6_000 });
    const fraKey = new ViewerTokenKey();
    const originKey = new ViewerTokenKey();
    const verifier = credentialVerifier(nodeCredential('RelayPass0123456789', { name: 'fra', publicKey: 'F'.repeat(43) + '=' })!);
    const b = body();
    b.nodes[0] = { ...b.nodes[0]!, tokenKey: fraKey.publicKey, relayVerifier: verifier };
    const s = createRoutingStatePublisher({ haven: HAVEN, build: () => ({ ...b, originTokenKey: originKey.publicKey }) }).current();
    expect(f.accept(JSON.parse(JSON.stringify(s)))).toEqual({ ok: true, changed: true });
    expect(f.state()?.originTokenKey).toBe(originKey.publicKey);
    expect(f.state()?.nodes[0]).toMatchObject({ tokenKey: fraKey.publicKey, relayVerifier: verifier });
    // A malformed key refuses the state (the held one stays).
    const bad = f.accept({ ...s, version: s.version + 1, originTokenKey: 'not a key' });
    expect(bad).toMatchObject({ ok: false, reason: 'invalid' });
    expect(f.state()?.originTokenKey).toBe(originKey.publicKey);
  });

  it('unhealthy nodes are no candidates', () => {
    const b = body();
    b.nodes[1]!.healthy = false;
    const pub = createRoutingStatePublisher({ haven: HAVEN, build: () => b });
    expect(entryCandidates(pub.current(), 'fra', true).map((c) => c.node.name)).toEqual(['fra']);
  });
});
