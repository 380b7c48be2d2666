import { type Haven } from '@haven/core';
import { createNodeReporter, type NodeReporter } from '@haven/control';
import type { MediaMtxServer } from '@haven/plugin-mediamtx';
import { unknownViewerPassword, writeJoinState, type JoinState } from '../home/join-state.js';
import { createRelayFollower } from './relay.js';

/** A node reports its readers to the origin and follows the origin's viewer password. */
export function startNodeReporter(haven: Haven, join: JoinState): NodeReporter & { stop(): Promise<void> } {
  const media = haven.provided.mediaServer;
  const reporter = createNodeReporter({
    url: join.reportUrl,
    // The node's own credential (the origin hands it out per node; kept under the relay password's name).
    token: () => haven.secrets().relayPassword,
    tokenKey: () => haven.tokenKey().publicKey,
    node: haven.config.name,
    httpsUrl: () => (media as Partial<Pick<MediaMtxServer, 'httpsDoor'>> | undefined)?.httpsDoor?.offer(),
    logger: haven.logger.child({ area: 'report' }),
    collect: async () =>
      Promise.all(
        haven.config.streams.map(async (s) => {
          const st = await media!.stats(s.name);
          return {
            name: s.name,
            ready: st.ready,
            readers: st.readers,
            bytesIn: st.bytesIn,
            bytesOut: st.bytesOut,
            ...(st.readerAddresses ? { readerAddresses: st.readerAddresses } : {}),
          };
        }),
      ),
  });
  reporter.start();
  const relay = createRelayFollower(haven, join, { reportNow: () => reporter.sendNow() });
  let closed = false;
  const follow = async () => {
    try {
      const res = await fetch(new URL('/api/node-secrets', join.reportUrl), {
        headers: { authorization: `Bearer ${haven.secrets().relayPassword}` },
        signal: AbortSignal.timeout(5000),
      });
      if (res.ok) {
        const body = (await res.json()) as { viewerPassword?: string; relayPassword?: string };
        const now = haven.secrets();
        const changed: Partial<Record<'viewerPassword' | 'relayPassword', string>> = {};
        // An empty password: the origin withholds it (it is private now). A node that joined while it was
        // public drops the one it was given, as a node that joins a private origin never gets it; its
        // viewers are checked against the routing state's HA1. The origin going public again hands it back.
        const held = body.viewerPassword !== '';
        if (held !== (join.viewerPasswordHeld !== false)) {
          if (!held) changed.viewerPassword = unknownViewerPassword();
          join.viewerPasswordHeld = held;
          await writeJoinState(haven.stateDir, join);
          haven.logger.info({}, held ? 'the origin shares the viewer password with its nodes again: this node holds it' : 'the origin is private: this node dropped the viewer password it held (viewers are checked against the origin\'s verifier)');
        }
        if (body.viewerPassword && body.viewerPassword !== now.viewerPassword) changed.viewerPassword = body.viewerPassword;
        if (body.relayPassword && body.relayPassword !== now.relayPassword) changed.relayPassword = body.relayPassword;
        if (Object.keys(changed).length > 0) {
          await haven.adoptSecrets(changed);
          haven.logger.info({ updated: Object.keys(changed) }, 'secrets updated from the origin');
        }
      }
    } catch {
      // The origin is unreachable for now; the reporter logs that once.
    }
  };
  const timer = setInterval(() => void follow(), 10_000);
  timer.unref();
  void follow();
  // The relay tree changes within seconds of a node going down: ask for this node's parent often.
  const relayTimer = setInterval(() => void relay.follow().catch((err: Error) => haven.logger.warn({ err: err.message }, 'following the relay tree failed; retrying')), 2000);
  relayTimer.unref();
  // A parent that died is noticed within a second (relay.ts `watch`), not at the origin's next probe round.
  const watchTimer = setInterval(() => void relay.watch().catch((err: Error) => haven.logger.warn({ err: err.message }, 'watching the relay parent failed')), 250);
  watchTimer.unref();
  return {
    ...reporter,
    async stop() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      clearInterval(relayTimer);
      clearInterval(watchTimer);
      await reporter.stop();
    },
  };
}
