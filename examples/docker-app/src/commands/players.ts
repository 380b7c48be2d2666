import { HavenError } from '@haven/core';
import { type ApiStatusView } from '@haven/control';
import { ApiClient } from '../runtime/client.js';
import { print, progress, table } from '../runtime/output.js';
import type { Loaded } from '../home/loaded.js';

/** One player's row of the status view (the control API's `Player` schema). */
export type PlayerRow = NonNullable<ApiStatusView['players']>[number];

const clock = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

/** What a verdict rests on, in a few words: outcomes, networks that did not follow, and when. */
export function evidenceText(p: PlayerRow): string {
  const e = p.evidence;
  if (!e) return '';
  return `${e.outcomes - e.followed}/${e.outcomes} unfollowed from ${e.prefixes} network(s), ${clock(e.firstAt)}..${clock(e.lastAt)} UTC`;
}

/** Follow-through of redirects and auth schemes per player (RTSP gateway), with the evidence of a learned verdict. */
export function printPlayers(players: PlayerRow[] | undefined, auth: { basic: number; digest: number } | undefined): void {
  if (!players || players.length === 0) return;
  const rate = (p: PlayerRow) => (p.followRate === undefined ? '' : `${Math.round(p.followRate * 100)}%`);
  print(
    table([
      ['player', 'redirected', 'reached node', 'same conn', 'did not follow', 'follow rate', 'served', 'evidence', 'basic', 'digest'],
      ...players.map((p) => [
        p.userAgent.slice(0, 40),
        String(p.redirects),
        String(p.followed),
        String(p.sameConnection),
        String(p.notFollowed),
        rate(p),
        p.served === 'local' ? `here (${p.why})` : 'node',
        evidenceText(p),
        String(p.basic),
        String(p.digest),
      ]),
    ]),
  );
  if (players.some((p) => p.why === 'learned-local')) print('a learned "here" is cleared with `haven players reset "<player>"` (or `haven players reset` for all)');
  if (auth && auth.basic > 0) print(`${auth.basic} viewer(s) sent the password with Basic (readable on the network), ${auth.digest} with Digest; viewer.allowBasic: false refuses Basic`);
  print();
}

/** `haven players reset [ua]`: the running origin forgets one player (its User-Agent as `haven status` shows it) or all. */
export async function playersReset(l: Loaded, userAgent: string | undefined): Promise<void> {
  if (l.loaded.config.role !== 'origin') {
    throw new HavenError('what the gateway learned about players is kept by the origin: run `haven players reset` on the origin', { code: 'CONFIG_INVALID' });
  }
  const api = await ApiClient.for(l);
  const r = await api.call<{ cleared: number }>('POST', '/api/players/reset', userAgent === undefined ? {} : { userAgent });
  if (userAgent === undefined) progress(`forgot what was learned about ${r.cleared} player(s); every player is redirected again until new evidence`);
  else if (r.cleared === 0) progress(`nothing was learned about "${userAgent}" (give the player exactly as \`haven status\` shows it)`);
  else progress(`forgot what was learned about "${userAgent}"; it is redirected again until new evidence`);
}
