/**
 * A node's two paths per stream, so viewers keep their connection when the relay tree changes the
 * node's parent (checked with MediaMTX v1.20.1 and v1.21.0, see packages/control/src/relay/README.md):
 * - `up/<stream>` pulls from the parent (its `source` follows the tree; MediaMTX recreates it on change);
 * - `<stream>` (what viewers read) pulls `up/<stream>` over loopback with the internal credential until the
 *   stream's tracks are known. Then it is `alwaysAvailable` with exactly those tracks, so while `up/<stream>`
 *   is switching, its readers get MediaMTX's offline segment instead of being closed; with MediaMTX v1.21.0
 *   or newer it is also re-rendered as a published path that `up/<stream>` forwards into (`ForwardToViewers`).
 */
import type { MtxPath } from './api-schemas.js';
import type { MediaMtxApi } from './api.js';

export function upstreamPath(stream: string): string {
  return `up/${stream}`;
}

/** One `alwaysAvailableTracks` entry (MediaMTX's AlwaysAvailableTrack). */
export interface OfflineTrack {
  codec: string;
  sampleRate?: number;
  channelCount?: number;
  muLaw?: boolean;
}

const DIRECT = new Set(['AV1', 'VP9', 'H265', 'H264', 'Opus']);

/**
 * The stream's tracks (`tracks2` of the running path) as `alwaysAvailableTracks`, or undefined when a
 * track has no offline equivalent (then the viewer path stays a plain pull: readers reconnect on a re-parent).
 */
export function offlineTracks(p: Pick<MtxPath, 'tracks2'> | undefined): OfflineTrack[] | undefined {
  const tracks = p?.tracks2;
  if (!tracks || tracks.length === 0) return undefined;
  const out: OfflineTrack[] = [];
  for (const t of tracks) {
    const props = (t.codecProps ?? {}) as Record<string, unknown>;
    const num = (k: string) => (typeof props[k] === 'number' ? (props[k] as number) : undefined);
    if (DIRECT.has(t.codec)) out.push({ codec: t.codec });
    else if (t.codec === 'MPEG-4 Audio' || t.codec === 'MPEG4Audio') {
      const sampleRate = num('sampleRate');
      const channelCount = num('channelCount');
      if (!sampleRate || !channelCount) return undefined;
      out.push({ codec: 'MPEG4Audio', sampleRate, channelCount });
    } else return undefined;
  }
  return out;
}

export function sameTracks(a: readonly OfflineTrack[] | undefined, b: readonly OfflineTrack[] | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** The viewer path of a node: pulls its own `up/<stream>` over loopback; `alwaysAvailable` once tracks are known. */
export function renderViewerPath(
  upstreamUrl: string,
  tracks: readonly OfflineTrack[] | undefined,
  extra: Record<string, unknown>,
): Record<string, unknown> {
  return {
    source: upstreamUrl,
    rtspTransport: 'tcp',
    sourceOnDemand: false,
    ...(tracks ? { alwaysAvailable: true, alwaysAvailableTracks: tracks.map((t) => ({ ...t })) } : { alwaysAvailable: false }),
    ...extra,
  };
}

/**
 * How `up/<stream>` hands the stream to the viewer path once its tracks are known, with MediaMTX v1.21.0
 * or newer: it pushes it (`forward`, hot-reloaded without touching the path) into a viewer path whose
 * source is `publisher`. A pull by the viewer path would be a static source: when `up/<stream>` is
 * recreated for a new parent the pull fails and MediaMTX waits its fixed 5 s retry pause before pulling
 * again. A forward starts the moment the new `up/<stream>` is online, so viewers get the stream back as
 * soon as the new parent delivers. `attached: false` renders no forward (the parent is gone: viewers get
 * the offline segment at once, and the node reports that it has no stream).
 */
export interface ForwardToViewers {
  /** The viewer path's loopback URL with the internal credential (never logged). */
  url: string;
  attached: boolean;
}

/** MediaMTX versions with native forwarding (`forward` on a path): v1.21.0 and newer. */
export function canForward(version: string | undefined): boolean {
  const m = /^v?(\d+)\.(\d+)\./.exec(version ?? '');
  if (!m) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > 1 || (major === 1 && minor >= 21);
}

/** `up/<stream>` with its forward into the viewer path (none while detached). */
export function renderForwardingUpstream(conf: Record<string, unknown>, fwd: ForwardToViewers): Record<string, unknown> {
  return { ...conf, forward: fwd.attached ? [{ dest: fwd.url }] : [] };
}

/** The viewer path fed by `up/<stream>`'s forward: `alwaysAvailable` with the learned tracks, the offline segment between publishers. */
export function renderPublishedViewerPath(tracks: readonly OfflineTrack[], extra: Record<string, unknown>): Record<string, unknown> {
  return { source: 'publisher', alwaysAvailable: true, alwaysAvailableTracks: tracks.map((t) => ({ ...t })), ...extra };
}

/**
 * Whether a running path carries its real stream: `available` (or the old `ready`) and not MediaMTX's
 * offline segment. v1.20.1 reports `online: true` for a static source that never connected, so `online`
 * alone is not enough; `available` alone is true while an `alwaysAvailable` path plays its offline segment.
 */
export function hasStream(p: Pick<MtxPath, 'available' | 'ready' | 'online'> | undefined): boolean {
  return (p?.available ?? p?.ready ?? false) === true && p?.online !== false;
}

/**
 * The bytes each stream's `up/<stream>` has received while it carries the stream (`inboundBytes`). A parent
 * that died shows as a count that stops growing: its TCP connection over the VPN goes silent, and MediaMTX
 * notices only after `readTimeout` (the relay follower in the app watches this).
 */
export async function upstreamBytes(api: Pick<MediaMtxApi, 'getPath'>, streams: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const name of streams) {
    const p = await api.getPath(upstreamPath(name));
    if (p && hasStream(p)) out.set(name, p.inboundBytes ?? p.bytesReceived ?? 0);
  }
  return out;
}

/**
 * When the parent is gone: close the viewer paths' loopback reads of `up/<stream>` now. Their readers get
 * the offline segment at once and MediaMTX's fixed 5 s static-source retry pause runs while the tree finds
 * a new parent, instead of starting only when `up/<stream>` is recreated for that parent (which stacked the
 * pause on top of the re-parent). Returns how many reads it closed.
 */
export async function dropUpstreamReads(api: Pick<MediaMtxApi, 'listRtspSessions' | 'kick'>, streams: readonly string[]): Promise<number> {
  const names = new Set(streams.map(upstreamPath));
  let closed = 0;
  for (const x of (await api.listRtspSessions()).items) {
    if (x.path && names.has(x.path) && x.state === 'read' && (await api.kick('rtspsessions', x.id))) closed++;
  }
  return closed;
}
