/**
 * A node dies under the crowd: the relay parent carrying the most viewers (else the busiest node) has
 * its namespace's processes SIGKILLed. Its own viewers lose their connection and, as world players do,
 * open the next entry of their list 5 s later: the time from that first retry to real video again
 * (goal <= 6 s), and whether anyone was sent to the dead node afterwards (goal 0). The viewers of its
 * relay children keep their connection: how long they go without real video while the children
 * re-parent (goal <= 6 s). Then where every viewer ended.
 */
import { waitFor, type Spawned } from '../../test/helpers/process.js';
import { askOpen, deadRedirects, lossBreakdown, openBreakdown } from './diagnose.js';
import { status, type Crowd, type CrowdNode, type CrowdStatus } from './setup.js';
import { longestGap, quantile, s1, type ReaderState, type Tally } from './tally.js';

export interface KillInput {
  c: Crowd;
  tally: Tally;
  /** The origin's status just before. */
  st: CrowdStatus;
  byIp: Map<string, CrowdNode>;
  say: (s: string) => void;
  goal: (ok: boolean) => string;
  afterKillMs: number;
  total: number;
  /** The reader processes (asked where their readers are at the end). */
  readers: readonly Spawned[];
}

export async function killReport(k: KillInput): Promise<void> {
  const { c, tally, st, say, goal } = k;
  const parents = new Map((st.relay?.edges ?? []).map((e) => [e.node, e.parent]));
  const childrenOf = (name: string) => [...parents].filter(([, p]) => p === name).map(([n]) => n);
  const viewersOf = (name: string) => tally.playing().filter((r) => r.host === c.nodes.find((n) => n.name === name)?.host.ip).length;
  const ranked = [...c.nodes].sort((a, b) => childrenOf(b.name).length - childrenOf(a.name).length || viewersOf(b.name) - viewersOf(a.name));
  const victim = ranked[0]!;
  const kids = childrenOf(victim.name);
  const kidIps = new Set(kids.map((n) => c.nodes.find((x) => x.name === n)!.host.ip));
  const onVictim = tally.playing().filter((r) => r.host === victim.host.ip);
  const onKids = tally.playing().filter((r) => r.host !== undefined && kidIps.has(r.host));
  // Quest viewers spliced by another entry to the victim, and PC viewers whose entry was the victim, lose it too.
  const killedAt = Date.now();
  await c.t.killHost(victim.host);
  const deadAt = Date.now();
  say(`[crowd] ${victim.name} (${victim.region}) killed (${s1(deadAt - killedAt)} until its processes were gone) carrying ${onVictim.length} of ${tally.playing().length + onVictim.length} playing viewers; its relay children: ${kids.join(', ') || 'none'} (${onKids.length} viewers)`);

  let movedAt = 0;
  /** When the origin called each relay child up again (health) after its re-parent. */
  const upAgainAt = new Map<string, number>();
  const settle = async () => {
    if (kids.length && (!movedAt || upAgainAt.size < kids.length)) {
      const s = await status(c).catch(() => undefined);
      const p = new Map((s?.relay?.edges ?? []).map((e) => [e.node, e.parent]));
      if (!movedAt && kids.every((n) => p.has(n) && p.get(n) !== victim.name)) movedAt = Date.now();
      for (const n of s?.nodes ?? []) if (movedAt && kids.includes(n.name) && n.health === 'up' && !upAgainAt.has(n.name)) upAgainAt.set(n.name, Date.now());
    }
    return tally.playing().length === k.total || undefined;
  };
  await waitFor('every viewer playing again', settle, k.afterKillMs, 500).catch(() => undefined);
  const end = Date.now();
  await askOpen(k.readers, tally.all());
  const atEnd = await status(c).catch(() => undefined);

  // Viewers that lost their connection: from their first retry (5 s after the loss) to real video again.
  const dropped = tally.all().filter((r) => r.lostAt.some((x) => x >= killedAt));
  const back = dropped.map((r) => {
    const retry = r.attempts.find((a) => a.at > (r.lostAt.find((x) => x >= killedAt) as number));
    const play = retry ? r.plays.find((p) => p.at >= retry.at) : undefined;
    return { r, ms: retry && play ? play.at - retry.at : undefined, retries: r.attempts.filter((a) => a.at >= killedAt).length };
  });
  const ok = back.filter((x) => x.ms !== undefined).map((x) => x.ms as number);
  const late = back.filter((x) => x.ms === undefined || x.ms > 6000);
  say(
    `[crowd] ${dropped.length} viewers lost their connection: playing again ${ok.length} of them, from their first retry p50 ${s1(quantile(ok, 0.5))}, max ${s1(Math.max(0, ...ok))} ` +
      `(${goal(late.length === 0)}: every one <= 6 s after its first retry); retries per viewer max ${Math.max(0, ...back.map((x) => x.retries))}` +
      (late.length ? `; late or not back: ${late.slice(0, 8).map((x) => `#${x.r.spec.id} ${x.r.spec.kind} ${x.ms === undefined ? 'not back' : s1(x.ms)} (${lastFail(x.r, killedAt)})`).join('; ')}` : ''),
  );
  const others = (h: string | undefined) => h !== victim.host.ip && !kidIps.has(h ?? '');
  const nameOf = (h: string | undefined) => (h ? (k.byIp.get(h)?.name ?? h) : '?');
  say(`[crowd] connections lost after the kill on the other live nodes: ${lossBreakdown(tally.all(), killedAt, others, nameOf)}`);
  const notBack = tally.all().filter((r) => !r.playing);
  say(`[crowd] not playing ${s1(end - killedAt)} after the kill: ${notBack.length}; where their attempt is: ${openBreakdown(notBack, k.byIp, atEnd, victim)}`);
  // Sent to the dead node after the kill: a 302 naming it answered once its processes were gone.
  const dead = victim.host.ip;
  const redirected = deadRedirects(tally.all(), dead, killedAt, deadAt);
  const viaLive = tally.all().flatMap((r) => r.fails.filter((f) => f.at > killedAt && f.entry !== dead && !f.hops.slice(1).includes(dead)));
  const ownList = tally.all().flatMap((r) => r.attempts.filter((a) => a.at > killedAt + 1000 && a.entry === dead));
  say(
    `[crowd] after the kill: ${redirected.after} redirects to the dead node (${goal(redirected.after === 0)}: 0)${redirected.detail ? ` (${redirected.detail})` : ''}, ${redirected.during} answered while the kill was under way, ${viaLive.length} failed attempts through a live entry` +
      `${viaLive.length ? ` (${[...new Set(viaLive.map((f) => f.error))].slice(0, 3).join(' | ')})` : ''}; ${ownList.length} attempts at the dead entry from viewers' own URL lists`,
  );
  if (kids.length) {
    const gaps = onKids.map((r) => longestGap(r, killedAt, end));
    const stillOn = onKids.filter((r) => r.lostAt.every((x) => x < killedAt)).length;
    say(
      `[crowd] relay children ${kids.join(', ')} re-parented ${movedAt ? `${s1(movedAt - killedAt)} after the kill` : 'NOT within the wait'}; their ${onKids.length} viewers (${stillOn} kept their connection): ` +
        `longest time without real video p50 ${s1(quantile(gaps, 0.5))}, max ${s1(Math.max(0, ...gaps))} (${goal(gaps.every((g) => g <= 6000))}: <= 6 s); ` +
        `connections they lost: ${lossBreakdown(onKids, killedAt, undefined, nameOf)}`,
    );
  }
  const final = await status(c).catch(() => undefined);
  placement(k, victim, final, (name) => upAgainAt.get(name) ?? (kids.includes(name) ? end : undefined), killedAt);
}

function lastFail(r: ReaderState, since: number): string {
  const f = r.fails.filter((x) => x.at > since).pop();
  return f ? `last: ${f.error} at ${f.stage} via ${f.hops.join('>')}` : 'no failed attempt';
}

/** Viewers per node against capacity, and where every viewer ended: its region's node, or why not. */
function placement(k: KillInput, victim: CrowdNode, final: CrowdStatus | undefined, upAgain: (name: string) => number | undefined, killedAt: number): void {
  const { c, tally, say, goal } = k;
  const playing = tally.playing();
  say(`[crowd] playing at the end: ${playing.length} of ${k.total} (${goal(playing.length === k.total)}: all)`);
  const rows = c.nodes.map((n) => {
    const mine = playing.filter((r) => r.host === n.host.ip).length;
    const reported = final?.nodes.find((x) => x.name === n.name)?.viewers;
    return `${n.name} ${n === victim ? 'dead' : `${mine}/${n.capacity}${reported !== undefined ? ` (origin counts ${reported})` : ''}`}`;
  });
  say(`[crowd] viewers per node / capacity: ${rows.join(', ')}`);
  const why = new Map<string, number>();
  for (const r of tally.all()) {
    const nearest = c.nodes.find((n) => n.region === r.region)!;
    const at = r.host ? k.byIp.get(r.host) : undefined;
    let reason: string;
    if (!r.playing) reason = `not playing (${r.fails.at(-1)?.error ?? 'lost'})`;
    else if (at === nearest) reason = 'nearest node';
    else if (nearest === victim) reason = 'elsewhere: its nearest node died';
    else if (r.spec.kind === 'quest' && at?.host.ip === r.entry) reason = 'elsewhere: a Quest viewer served by the entry it connected to';
    else if ((r.attempts.at(-1)?.at ?? 0) > killedAt && (r.attempts.at(-1)?.at ?? 0) < (upAgain(nearest.name) ?? 0))
      reason = 'elsewhere: came back while its nearest node, a relay child of the dead one, was not up again at the origin';
    else if (playing.filter((x) => x.host === nearest.host.ip).length >= nearest.capacity) reason = 'elsewhere: its nearest node is full';
    else reason = `elsewhere (${at?.name ?? r.host ?? '?'}) with room at its nearest node`;
    why.set(reason, (why.get(reason) ?? 0) + 1);
  }
  say(`[crowd] where viewers ended: ${[...why].sort((a, b) => b[1] - a[1]).map(([w, n]) => `${n} ${w}`).join('; ')}`);
}
