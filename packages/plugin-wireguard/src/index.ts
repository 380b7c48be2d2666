export { wireguard, nodeOptionsFromBundle, makeShareCode } from './plugin.js';
export { wireguardOptionsSchema, checkOptions, type WireGuardOptions, type WireGuardOptionsInput } from './options.js';
export { WireGuardVpn, createWireGuardVpn, defaultInterfaceName, type WireGuardVpnOptions } from './vpn.js';
export { generateKeyPair, publicKeyFromPrivate, parseKey, isWireGuardKey, loadOrCreateKeyPair, WIREGUARD_DIR, PRIVATE_KEY_FILE, type KeyPair, type StoredKeyPair } from './keys.js';
export { AddressPlan, ADDRESSES_FILE, type Allocation, type AssignRequest } from './address-plan.js';
export { parseSubnet, contains, firstHost, type Subnet } from './subnet.js';
export { renderWgQuick, renderOriginConfig, renderNodeConfig, parseEndpoint, type WgQuickInterface, type WgQuickPeer, type OriginRenderInput, type NodeRenderInput } from './render.js';
export {
  encodeShareCode,
  decodeShareCode,
  encodeJoinBundle,
  decodeJoinBundle,
  SHARE_CODE_PREFIX,
  JOIN_BUNDLE_PREFIX,
  JOIN_BUNDLE_WARNING,
  type ShareCode,
  type JoinBundle,
} from './codes.js';
export { handshakeSignal, handshakeProbe, type HandshakeSignal, type HandshakeSignalOptions, type HandshakeSignalReader, type HandshakeProbeOptions } from './health.js';
export { WgDriver, WG_SOCKET_DIR, type Implementation, type DriverOptions, type PeerSpec } from './driver.js';
export { parseDump, handshakeAge, type WgDump, type DumpPeer } from './dump.js';
export { Exec, DEFAULT_TOOLS, type ToolPaths, type Tool, type RunResult } from './exec.js';
export { WireGuardErrorCodes, type WireGuardErrorCode } from './errors.js';
