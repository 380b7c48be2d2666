import type { HavenEmitter, IngestTrack, Logger } from '@haven/core';
import type { IngestVerdict } from './types.js';
import { checkIngest } from './check.js';
import type { IngestSampler } from './ffprobe.js';
import { audioNeedsFix } from './profile.js';

export interface IngestMonitorOptions {
  events: HavenEmitter;
  /** MediaMTX's tracks of the publisher's path (`tracks2`); [] while nothing is published. */
  tracks(stream: string): Promise<IngestTrack[]>;
  sampler: IngestSampler;
  /** The origin re-encodes bad audio for viewers (the audio fix is on). Default: never. */
  audioFix?: (stream: string) => boolean;
  logger?: Logger;
  /** Wait after `publisher:up` before sampling, ms (let the encoder settle). Default 1000. */
  settleMs?: number;
  /** Called with each new verdict (metrics, live page). */
  onVerdict?(verdict: IngestVerdict): void;
}

export interface IngestMonitor {
  /** The last verdict of a live stream; undefined while offline or not checked yet. */
  verdict(stream: string): IngestVerdict | undefined;
  verdicts(): IngestVerdict[];
  /** Check now (also runs by itself on every `publisher:up`). */
  check(stream: string): Promise<IngestVerdict | undefined>;
  stop(): Promise<void>;
}

/**
 * Checks each stream when its publisher (re)connects: MediaMTX's tracks, then a few seconds sampled.
 * One check per stream at a time; a reconnect during a check starts a fresh one after it.
 */
export function createIngestMonitor(o: IngestMonitorOptions): IngestMonitor {
  const verdicts = new Map<string, IngestVerdict>();
  const running = new Map<string, { ctl: AbortController; done: Promise<IngestVerdict | undefined> }>();
  const generation = new Map<string, number>();
  let stopped = false;

  async function run(stream: string, gen: number, signal: AbortSignal): Promise<IngestVerdict | undefined> {
    await new Promise((r) => setTimeout(r, o.settleMs ?? 1000));
    if (signal.aborted) return undefined;
    const tracks = await o.tracks(stream).catch(() => []);
    let probe;
    try {
      probe = await o.sampler.sample(stream, signal);
    } catch (err) {
      if (signal.aborted) return undefined;
      o.logger?.warn({ err, stream }, 'ingest check: sampling failed; judging from the track list only');
    }
    if (signal.aborted || generation.get(stream) !== gen) return undefined;
    if (tracks.length === 0 && !probe) return undefined;
    const facts = checkIngest(stream, tracks, probe);
    const fix = o.audioFix?.(stream) === true && audioNeedsFix(facts.facts.audio);
    const verdict = fix ? { ...checkIngest(stream, tracks, probe, { audioFix: true }), audioFixed: true } : facts;
    verdicts.set(stream, verdict);
    o.logger?.info(
      { stream, verdict: verdict.level, pc: verdict.pc, quest: verdict.quest, findings: verdict.findings.filter((f) => f.level !== 'fine').map((f) => f.rule) },
      `ingest check: "${stream}" ${verdict.level === 'fine' ? 'is VRChat-ready' : verdict.level === 'breaks' ? 'does not play in VRChat' : 'plays poorly in VRChat'}`,
    );
    o.onVerdict?.(verdict);
    return verdict;
  }

  function start(stream: string): Promise<IngestVerdict | undefined> {
    running.get(stream)?.ctl.abort();
    const gen = (generation.get(stream) ?? 0) + 1;
    generation.set(stream, gen);
    const ctl = new AbortController();
    const done = run(stream, gen, ctl.signal)
      .catch((err: unknown) => {
        o.logger?.warn({ err, stream }, 'ingest check failed');
        return undefined;
      })
      .finally(() => {
        if (running.get(stream)?.ctl === ctl) running.delete(stream);
      });
    running.set(stream, { ctl, done });
    return done;
  }

  const onUp = ({ stream }: { stream: string }) => {
    if (!stopped) void start(stream);
  };
  const onDown = ({ stream }: { stream: string }) => {
    running.get(stream)?.ctl.abort();
    generation.set(stream, (generation.get(stream) ?? 0) + 1);
    verdicts.delete(stream);
  };
  o.events.on('publisher:up', onUp);
  o.events.on('publisher:down', onDown);

  return {
    verdict: (stream) => verdicts.get(stream),
    verdicts: () => [...verdicts.values()],
    check: (stream) => start(stream),
    async stop() {
      stopped = true;
      o.events.off('publisher:up', onUp);
      o.events.off('publisher:down', onDown);
      const all = [...running.values()];
      for (const r of all) r.ctl.abort();
      await Promise.all(all.map((r) => r.done));
    },
  };
}
