import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import path from 'node:path';
import { certInfo } from '@haven/plugin-mediamtx';
import type { Check, Finding } from './findings.js';

const DAY = 86_400_000;

/** Whether something answers HTTP on host:80 with our challenge responder's 404 ("no such challenge"). */
function probeResponder(host: string, timeoutMs = 3_000): Promise<'ours' | 'other' | 'none'> {
  return new Promise((resolve) => {
    const req = request({ host, port: 80, path: '/.well-known/acme-challenge/haven-doctor-probe', headers: { host }, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(res.statusCode === 404 && body.startsWith('no such challenge') ? 'ours' : 'other'));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve('none'));
    req.end();
  });
}

function canBind80(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(80, () => s.close(() => resolve(true)));
  });
}

/**
 * A node with `tls` in its MediaMTX options: port 80 for the http-01 challenge, and the certificate
 * it serves (CA or placeholder, expiry, the manager's last error).
 */
export const nodeTls: Check = async (ctx) => {
  const cfg = ctx.l.loaded.config;
  const tls = (ctx.l.loaded.pluginOptions.mediamtx as { tls?: unknown } | undefined)?.tls;
  if (cfg.role !== 'node' || tls === undefined) return [];
  const mode = typeof tls === 'string' ? tls : (tls as { mode?: string }).mode;
  const out: Finding[] = [];
  const dir = path.join(ctx.l.loaded.stateDir, 'tls');
  const status = existsSync(path.join(dir, 'status.json'))
    ? (JSON.parse(readFileSync(path.join(dir, 'status.json'), 'utf8')) as { state?: string; error?: string; challengeRefusals?: { total: number } })
    : undefined;
  if (mode === 'acme') {
    const host = cfg.public.host;
    const found = await probeResponder(host);
    if (found === 'ours') out.push({ level: 'ok', what: `ACME http-01: the challenge responder answers on ${host}:80 (the CA must reach it from the internet: open/forward TCP 80)` });
    else if (found === 'other') out.push({ level: 'fail', what: `ACME http-01: something else answers on ${host}:80`, fix: 'free port 80 for the node (the CA validates there), or set tls.challengeAddress' });
    else if (await canBind80()) out.push({ level: 'warn', what: 'ACME http-01: port 80 is free; the node answers there once started', fix: 'start the node (`haven start`); open/forward TCP 80 to it' });
    else out.push({ level: 'fail', what: `ACME http-01: nothing answers on ${host}:80 and this process cannot listen there`, fix: 'run the node as root or give node CAP_NET_BIND_SERVICE; open/forward TCP 80 to it' });
    if (status?.challengeRefusals?.total) out.push({ level: 'warn', what: `ACME http-01: ${status.challengeRefusals.total} challenge request(s) for another token or address were refused (see haven status)` });
  }
  const live = path.join(dir, 'live.pem');
  if (!existsSync(live)) {
    out.push({ level: 'warn', what: 'HTTPS: no certificate yet', fix: 'start the node; with `tls: acme` it asks the CA at start' });
    return out;
  }
  try {
    const info = certInfo(readFileSync(live, 'utf8'));
    const left = info.notAfter.getTime() - Date.now();
    if (info.selfSigned) out.push({ level: 'warn', what: `HTTPS: serving a self-signed placeholder (no CA certificate yet)${status?.error ? `: ${status.error}` : ''}`, fix: 'see the error above; players refuse a placeholder' });
    else if (left <= 0) out.push({ level: 'fail', what: `HTTPS: the certificate expired at ${info.notAfter.toISOString()}`, fix: mode === 'acme' ? 'check the ACME error in `haven status` and port 80' : 'install a renewed certificate at tls.certFile/keyFile' });
    else out.push({ level: left < DAY ? 'warn' : 'ok', what: `HTTPS: certificate for ${info.ips.join(', ')} from ${info.issuer.replace(/\n/g, ', ')} expires ${info.notAfter.toISOString()} (in ${(left / 3_600_000).toFixed(0)} h)${status?.error ? `; last attempt: ${status.error}` : ''}` });
  } catch (err) {
    out.push({ level: 'fail', what: `HTTPS: ${live} is unreadable (${(err as Error).message})` });
  }
  return out;
};
