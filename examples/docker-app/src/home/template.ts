/** Commented haven.yaml files written by `haven init`. */

export interface OriginTemplateInput {
  name: string;
  publicHost: string;
  region?: string;
  /** `private`: viewers come in through entry nodes only and this machine dials the nodes (no port to open). */
  exposure?: 'private' | 'public';
}

export function originTemplate(i: OriginTemplateInput): string {
  return `# Stream Haven origin: your own machine. OBS publishes here; viewers and friends' nodes connect here.
# Every key is checked at start; an unknown or misspelt key is an error, not ignored.
role: origin
name: ${i.name}

# Where this machine is, so viewers near it are served here: a region (eu-central, us-east,
# ap-northeast, an ISO country code like DE) or lat/lon.
${i.region ? `region: ${i.region}` : '# region: eu-central'}

# The address viewers and nodes reach this machine at: your public IP (no domain needed).
public:
  host: ${i.publicHost}
  rtspPort: 8554   # viewers: rtsp:// and rtspt:// (VRChat)
  hlsPort: 8888    # viewers: HLS

# Who viewers reach. Unset (the default): public while this Haven has no node (viewers come straight
# here, at public.host), private once it has one: nothing here listens on a public address and no URL
# names this machine; viewers come in through your friends' entry nodes (\`haven urls\`), and this
# machine dials each node's WireGuard, so no port forward is needed (works behind NAT/CGNAT). OBS
# publishes on this machine or your LAN. Changing it applies at the next \`haven start\` (the first
# \`haven node add\` while running keeps this machine's URL answering until then).
${i.exposure ? `exposure: ${i.exposure}` : '# exposure: private   # or public: viewers may reach this machine even with nodes'}

# Stream names (the path in every URL).
streams:
  - name: live

# User name viewers type; the password is generated into state/secrets.json (\`haven urls\` shows it).
viewer:
  user: viewer

# Secrets and keys live here (mode 0700; files 0600). Back it up; never share it.
stateDir: ./state

gateway:
  # adaptive: every player (VRChat's too) is sent (302) to the nearest live node; a player that asks
  # again on the same connection (Quest's) is served right there, and one seen not to follow is
  # served here from then on. Or: known-players (only redirectUserAgents) | always | never.
  redirect: adaptive

# Control API and status page (loopback only; changes need the token in state/api-token).
api:
  listen: 127.0.0.1:8880

# Friends' relay nodes: added with \`haven node add <share-code>\`, live, no restart needed.
nodes: []

# Relay tree: when your uplink cannot feed every node, nodes feed nodes (over direct WireGuard links the
# origin sets up). Unset = this machine feeds every node itself. A node's entry may add
# \`relayChildren: 2\` (nodes it feeds; 0 = never a parent, e.g. behind a NAT without port forwarding).
# relay:
#   maxChildren: 3   # nodes this machine feeds directly
#   uplinkMbps: 30   # or: your upload speed; copies = 80% of it / the stream's measured bitrate
#   maxDepth: 3      # longest chain origin > node > node > node

plugins:
  # MediaMTX moves the video. Ingest: RTMP 127.0.0.1:1935 and SRT 127.0.0.1:8890, this machine only (the
  # stream key is required); for OBS on another machine: mediamtx: { ingest: lan }.
  mediamtx: {}
  # Viewer location: the embedded DB-IP Lite database; add a MaxMind licence key to use GeoLite2.
  geo: {}
`;
}

export interface NodeTemplateInput {
  name: string;
  region: string;
  publicHost: string;
}

export function nodeTemplate(i: NodeTemplateInput): string {
  return `# Stream Haven node: a friend's relay. It pulls the stream from the origin over WireGuard and
# serves viewers the origin sends here.
role: node
name: ${i.name}
region: ${i.region}

# The address viewers reach this machine at (your public IP).
public:
  host: ${i.publicHost}
  rtspPort: 8554
  hlsPort: 8888

# Filled in by \`haven node join <bundle>\`.
streams:
  - name: live

stateDir: ./state

api:
  listen: 127.0.0.1:8880

plugins:
  mediamtx: {}
`;
}
