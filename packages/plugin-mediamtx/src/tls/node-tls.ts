import { isIP } from 'node:net';
import path from 'node:path';
import { mtxError } from '../errors.js';
import type { MediamtxOptions } from '../options.js';
import { TlsManager, type TlsLogger } from './manager.js';

/**
 * The TLS manager of a node with `tls` set, or undefined. An origin never asks for a certificate (it
 * stays private); a certificate names an IP address, so `public.host` must be one.
 */
export function nodeTls(role: 'origin' | 'node', o: MediamtxOptions, publicHost: string, stateDir: string, logger: TlsLogger): TlsManager | undefined {
  if (!o.tls) return undefined;
  if (role !== 'node') {
    throw mtxError('OPTIONS_INVALID', 'tls: only a node serves HTTPS (the origin stays private and never asks for a certificate); remove tls from the origin\'s mediamtx options');
  }
  if (!o.hls) throw mtxError('OPTIONS_INVALID', 'tls: serves HLS over HTTPS, but hls is false; set hls: true or remove tls');
  const ip = publicHost.replace(/^\[|\]$/g, '');
  if (isIP(ip) === 0) {
    throw mtxError('OPTIONS_INVALID', `tls: certificates are issued for this node's IP address, but public.host is "${publicHost}"; set public.host to the node's public IP`);
  }
  return new TlsManager({ options: o.tls, ip, dir: path.join(stateDir, 'tls'), logger });
}
