import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** What the node's TLS manager last wrote (`<stateDir>/tls/status.json`); undefined without `tls`. */
export interface NodeTlsStatus {
  mode: string;
  state: string;
  ip: string;
  certificate?: { serial: string; notAfter: string; issuer: string; selfSigned: boolean };
  renewAt?: string;
  error?: string;
  challengeRefusals?: { total: number; recent: Array<{ at: string; from: string; reason: string; host: string }> };
  at?: string;
}

export async function readNodeTlsStatus(stateDir: string): Promise<NodeTlsStatus | undefined> {
  try {
    return JSON.parse(await readFile(path.join(stateDir, 'tls', 'status.json'), 'utf8')) as NodeTlsStatus;
  } catch {
    return undefined;
  }
}

/** One or two lines for `haven status` on a node. */
export function tlsStatusLines(s: NodeTlsStatus): string[] {
  const cert = s.certificate;
  const what = cert ? (cert.selfSigned ? 'self-signed placeholder' : `certificate expires ${cert.notAfter}${s.renewAt ? `, renewal due ${s.renewAt}` : ''}`) : 'no certificate';
  const lines = [`HTTPS (tls: ${s.mode}) for ${s.ip}: ${s.state}, ${what}`];
  if (s.error) lines.push(`  last problem: ${s.error}`);
  const last = s.challengeRefusals?.recent.at(-1);
  if (last) lines.push(`  ${s.challengeRefusals?.total} ACME challenge request(s) refused (another token or address); last from ${last.from} (${last.reason}) at ${last.at}`);
  return lines;
}
