import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { HavenError, readPrivateFile, writePrivateFile } from '@haven/core';
import type { JoinBundle } from '@haven/plugin-wireguard';

export const JOIN_FILE = 'join.json';

/** What a node keeps from its join bundle (the passwords go to its secrets file instead). */
export interface JoinState {
  version: 1;
  origin: JoinBundle['origin'];
  node: JoinBundle['node'];
  subnet: string;
  relay: { host: string; port: number; user: string };
  viewerUser: string;
  /**
   * `false`: the bundle carried no viewer password (a private origin; viewers are checked against the
   * routing state's HA1), so this node cannot print viewer URLs. Absent in older state files: held.
   */
  viewerPasswordHeld?: boolean;
  streams: string[];
  /** The origin's report endpoint over the VPN. */
  reportUrl: string;
}

export async function readJoinState(stateDir: string): Promise<JoinState | undefined> {
  const raw = await readPrivateFile(path.join(stateDir, JOIN_FILE));
  if (raw === undefined) return undefined;
  try {
    const s = JSON.parse(raw) as JoinState;
    if (s.version !== 1) throw new Error('version');
    return s;
  } catch (err) {
    throw new HavenError(`${path.join(stateDir, JOIN_FILE)} is damaged: run \`haven node join <bundle>\` again`, { code: 'STATE_CORRUPT', cause: err });
  }
}

/** Store what the node keeps from its join (0600: it names the origin's VPN endpoint and key). */
export async function writeJoinState(stateDir: string, state: JoinState): Promise<void> {
  await writePrivateFile(path.join(stateDir, JOIN_FILE), `${JSON.stringify(state, null, 2)}\n`);
}

/** A viewer password no viewer knows: what a node of a private origin keeps (its viewers are checked against the HA1). */
export function unknownViewerPassword(): string {
  return randomBytes(24).toString('hex');
}
