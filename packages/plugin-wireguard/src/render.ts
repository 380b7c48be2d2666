import { wgError } from './errors.js';

/** The `[Interface]` section of a wg-quick file. */
export interface WgQuickInterface {
  /** Secret: the rendered file must be written mode 0600 and never logged. */
  privateKey: string;
  /** CIDRs, e.g. `['10.77.0.1/24']`. */
  address: string[];
  listenPort?: number;
  mtu?: number;
}

/** One `[Peer]` section. */
export interface WgQuickPeer {
  publicKey: string;
  allowedIps: string[];
  endpoint?: string;
  persistentKeepalive?: number;
  /** Written as a comment above the section. */
  name?: string;
}

const ENDPOINT_RE = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** Check a `host:port` endpoint (IPv4, DNS name or `[IPv6]`); returns it trimmed. */
export function parseEndpoint(input: string, what = 'endpoint'): string {
  const value = String(input).trim();
  const m = ENDPOINT_RE.exec(value);
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) {
    throw wgError('OPTIONS_INVALID', `${what}: expected host:port that nodes can reach, e.g. 198.51.100.7:51820, got "${value}"`);
  }
  return value;
}

/** Comments must stay one line of plain text whatever a name holds. */
function comment(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 80);
}

function line(key: string, value: string | number): string {
  const v = String(value);
  if (/[\r\n]/.test(v)) throw wgError('OPTIONS_INVALID', `${key}: a value must not contain a line break`);
  return `${key} = ${v}`;
}

/** Render a wg-quick (`wg-quick up <file>`) configuration. Holds the private key: treat as secret. */
export function renderWgQuick(iface: WgQuickInterface, peers: WgQuickPeer[]): string {
  const out = ['[Interface]', line('PrivateKey', iface.privateKey), line('Address', iface.address.join(', '))];
  if (iface.listenPort !== undefined) out.push(line('ListenPort', iface.listenPort));
  if (iface.mtu !== undefined) out.push(line('MTU', iface.mtu));
  for (const p of peers) {
    out.push('');
    if (p.name) out.push(`# ${comment(p.name)}`);
    out.push('[Peer]', line('PublicKey', p.publicKey), line('AllowedIPs', p.allowedIps.join(', ')));
    if (p.endpoint) out.push(line('Endpoint', p.endpoint));
    if (p.persistentKeepalive) out.push(line('PersistentKeepalive', p.persistentKeepalive));
  }
  return `${out.join('\n')}\n`;
}

export interface OriginRenderInput {
  privateKey: string;
  /** Origin VPN address, e.g. `10.77.0.1`. */
  address: string;
  /** Prefix length of the VPN subnet, e.g. 24. */
  prefix: number;
  listenPort: number;
  mtu?: number;
  nodes: Array<{ name?: string; publicKey: string; address: string; endpoint?: string }>;
}

/** The origin's file: one `[Peer]` per node whose AllowedIPs is that node's /32 only. */
export function renderOriginConfig(input: OriginRenderInput): string {
  const iface: WgQuickInterface = { privateKey: input.privateKey, address: [`${input.address}/${input.prefix}`], listenPort: input.listenPort };
  if (input.mtu !== undefined) iface.mtu = input.mtu;
  return renderWgQuick(
    iface,
    input.nodes.map((n) => {
      const peer: WgQuickPeer = { publicKey: n.publicKey, allowedIps: [`${n.address}/32`] };
      if (n.name) peer.name = `node ${n.name}`;
      if (n.endpoint) peer.endpoint = n.endpoint;
      return peer;
    }),
  );
}

export interface NodeRenderInput {
  privateKey: string;
  /** This node's VPN address, e.g. `10.77.0.23`. */
  address: string;
  mtu?: number;
  listenPort?: number;
  origin: { publicKey: string; endpoint: string; address: string };
  /** Default 25: keeps NAT mappings open so the origin can reach a node behind NAT. */
  keepaliveSec?: number;
}

/** A node's file: its /32 and one `[Peer]` for the origin (origin /32, Endpoint, PersistentKeepalive). */
export function renderNodeConfig(input: NodeRenderInput): string {
  const iface: WgQuickInterface = { privateKey: input.privateKey, address: [`${input.address}/32`] };
  if (input.listenPort !== undefined) iface.listenPort = input.listenPort;
  if (input.mtu !== undefined) iface.mtu = input.mtu;
  return renderWgQuick(iface, [
    {
      name: 'origin',
      publicKey: input.origin.publicKey,
      allowedIps: [`${input.origin.address}/32`],
      endpoint: parseEndpoint(input.origin.endpoint, 'origin endpoint'),
      persistentKeepalive: input.keepaliveSec ?? 25,
    },
  ]);
}
