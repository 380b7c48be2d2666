import { createRoutingStatePublisher, type CredentialSubject, credentialVerifier, digestHa1, type Haven, HavenError, isTokenPublicKey, nodeCredential, type RoutingStatePlace, type RoutingStatePublisher } from '@haven/core';

/** The RTSP gateway's Digest realm (its default; the entries answer with the same one). */
const REALM = 'Stream Haven';

/**
 * The origin's routing state for its entry nodes, built from its running services: every node but the
 * origin itself (viewers are only ever sent to nodes), health as the origin probes it, load, the viewer
 * password's Digest HA1, what the gateway learned about players, and whom entries trust: each node's
 * token key and pull-credential verifier, and the origin's own token key.
 */
export function havenRoutingState(
  haven: Haven,
  o: {
    havenId: string;
    /** A node's HTTPS HLS base URL while it serves a CA certificate (from its reports: `createHttpsUrlBook`). */
    httpsUrl?: (node: string) => string | undefined;
    /** The origin's geo overrides, handed to entries so they place viewers as the origin does. */
    places?: () => readonly RoutingStatePlace[];
    /** A node's public token key, as its latest report gave it. */
    tokenKey?: (node: string) => string | undefined;
  },
): RoutingStatePublisher {
  return createRoutingStatePublisher({
    haven: o.havenId,
    build: () => {
      const { registry, health, players } = haven.services;
      if (!registry || !health) throw new HavenError('the routing state needs a running origin', { code: 'NOT_STARTED' });
      const user = (haven.config as { viewer?: { user?: string } }).viewer?.user ?? 'viewer';
      const places = [...(o.places?.() ?? [])].slice(0, 4096);
      const entries = (haven.config as { nodes?: CredentialSubject[] }).nodes ?? [];
      const secret = haven.secrets().relayPassword;
      const verifier = (name: string) => {
        const c = nodeCredential(secret, entries.find((e) => e.name === name) ?? { name });
        return c === undefined ? undefined : credentialVerifier(c);
      };
      return {
        nodes: registry
          .list()
          .filter((n) => !n.origin)
          .map((n) => {
            const httpsUrl = o.httpsUrl?.(n.name);
            const tokenKey = o.tokenKey?.(n.name);
            const relayVerifier = verifier(n.name);
            return {
              name: n.name,
              ...(n.region ? { region: n.region } : {}),
              location: { lat: n.location.lat, lon: n.location.lon },
              rtspUrl: n.rtspUrl,
              ...(n.hlsUrl ? { hlsUrl: n.hlsUrl } : {}),
              ...(httpsUrl ? { httpsUrl } : {}),
              healthy: health.state(n) === 'up',
              capacity: n.capacity,
              load: health.load(n),
              entry: true,
              ...(tokenKey && isTokenPublicKey(tokenKey) ? { tokenKey } : {}),
              ...(relayVerifier ? { relayVerifier } : {}),
            };
          }),
        viewer: { user, realm: REALM, ha1: digestHa1(user, REALM, haven.secrets().viewerPassword) },
        players: (players?.snapshot() ?? []).slice(0, 1024).map((p) => ({ userAgent: p.userAgent.slice(0, 512), served: p.served })),
        ...(places.length > 0 ? { places } : {}),
        originTokenKey: haven.tokenKey().publicKey,
      };
    },
  });
}
