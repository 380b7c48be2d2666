import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { originConfigSchema } from '@haven/core';
import type { RoutingStack } from '@haven/gateway';
import { waitFor } from '../helpers/process.js';
import { playMedia3, type PlayResult } from '../helpers/rtsp-players.js';
import { VIEWER } from '../gateway/helpers.js';
import { startOriginDoor, type OriginDoor } from './origin-door.js';

// A node dies and its viewers retry together through the next entry; many of them may share one
// network (one ISP's /24). An RTSP door built as the app builds it (the origin's routing stack in
// front of a real MediaMTX, the config's defaults untouched: at most 32 undecided connections per
// network): viewers arriving while their network holds that budget wait for a slot (at most 2 s)
// instead of a 503 that a world player answers only 5 s later; a slot that never comes still ends
// in the 503.

const NET = '127.91.0';
const ADDRESSES = 4;
const PER_ADDRESS = 8;
const defaults = originConfigSchema.parse({ role: 'origin' }).gateway;

describe('a burst of viewers from one network at the RTSP door', () => {
  let door: OriginDoor;
  let stack: RoutingStack;
  let rtspPort: number;

  beforeAll(async () => {
    door = await startOriginDoor();
    ({ stack, rtspPort } = door);
  });

  afterAll(async () => {
    await door?.stop();
  });

  it(`viewers arriving while their network holds its undecided budget (${defaults.maxUndecidedPerPrefix}) wait for a slot, and every one plays`, async () => {
    // The network's budget is held: connections open, nothing asked yet (viewers of the dead node in
    // the middle of their decision). Then more viewers of that network arrive.
    const held: Socket[] = [];
    for (let a = 1; a <= 4; a++) {
      for (let i = 0; i < defaults.maxUndecidedPerPrefix / 4; i++) {
        const s = connect({ host: '127.0.0.1', port: rtspPort, localAddress: `${NET}.${a}` });
        s.on('error', () => {});
        held.push(s);
      }
    }
    await Promise.all(held.map((s) => new Promise((r) => s.once('connect', r))));
    await waitFor('the budget held', () => stack.rtspGateway.stats().budget.undecided >= defaults.maxUndecidedPerPrefix || undefined, 5000, 20);
    const url = `rtsp://${VIEWER.user}:${VIEWER.password}@127.0.0.1:${rtspPort}/live`;
    const plays: Array<Promise<PlayResult>> = [];
    for (let a = 5; a < 5 + ADDRESSES; a++) {
      for (let i = 0; i < PER_ADDRESS; i++) plays.push(playMedia3({ url, userAgent: 'AndroidXMedia3/1.5.0', localAddress: `${NET}.${a}`, packets: 5, waitMs: 20_000 }));
    }
    // They are decided one after another (here: they leave) within the arrivals' wait.
    await waitFor('arrivals waiting', () => stack.rtspGateway.stats().budget.waiting > 0 || undefined, 5000, 10);
    for (const s of held) {
      s.destroy();
      await new Promise((r) => setTimeout(r, 20));
    }
    const results = await Promise.all(plays);
    const failed = results.filter((r) => !r.played).map((r) => `${r.statuses.join(' ')} ${r.error ?? ''}`);
    const budget = stack.rtspGateway.stats().budget;
    console.log(`burst: ${results.length - failed.length} of ${results.length} played; admitted after a wait ${budget.waited}; refused ${JSON.stringify(budget.refused)}`);
    expect(failed).toEqual([]);
    expect(budget.waited).toBeGreaterThan(0);
    expect(budget.refused.undecided).toBe(0);
  }, 90_000);

  it('a connection over its network\'s undecided budget whose slot never comes gets its 503 after the wait, as before', async () => {
    const held: Socket[] = [];
    for (let a = 1; a <= 4; a++) {
      for (let i = 0; i < defaults.maxUndecidedPerPrefix / 4; i++) {
        const s = connect({ host: '127.0.0.1', port: rtspPort, localAddress: `127.92.0.${a}` });
        s.on('error', () => {});
        held.push(s);
      }
    }
    try {
      await Promise.all(held.map((s) => new Promise((r) => s.once('connect', r))));
      const before = stack.rtspGateway.stats().budget.refused.undecided;
      const t0 = Date.now();
      const answer = await new Promise<string>((resolve) => {
        let got = '';
        const s = connect({ host: '127.0.0.1', port: rtspPort, localAddress: '127.92.0.9' }, () => s.write('OPTIONS rtsp://127.0.0.1/live RTSP/1.0\r\nCSeq: 1\r\n\r\n'));
        s.on('data', (d: Buffer) => (got += d.toString('latin1')));
        s.on('error', () => {});
        s.on('close', () => resolve(got));
      });
      expect(answer).toMatch(/^RTSP\/1\.0 503/);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
      expect(stack.rtspGateway.stats().budget.refused.undecided).toBe(before + 1);
    } finally {
      for (const s of held) s.destroy();
    }
  }, 30_000);
});
