import { describe, expect, it } from 'vitest';
import { forwardUri, readTokenUri, tokenLocation } from '../../packages/gateway/src/rtsp/target.js';
import { ffmpegControl, gstreamerControls, media3Control, rfc2326Control, type DescribeBase } from '../helpers/control-url.js';

// Every client's control-URL rule (test/helpers/control-url.ts, from their sources) against the
// Location a Haven gateway hands out, over SDPs with absolute and relative controls, with and without
// Content-Base, with and without a trailing slash. What the entry's gateway forwards to its MediaMTX
// must be `/<stream>/<control>` (gortsplib's `getPathAndQueryAndTrackID` "GStreamer format") for a
// SETUP and `/<stream>` for the aggregate PLAY.

const TOKEN = 'v1.tq0abc.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const NODE = 'rtsp://203.0.113.7:8554';
const AUTH = '203.0.113.7:8554';
const LOCATION = tokenLocation(NODE, 'live', TOKEN);
const SETUP = `${NODE}/live/trackID=0`;
const AGGREGATE = `${NODE}/live`;

/** What the entry forwards for a DESCRIBE of the Location: MediaMTX answers with this + `/` as Content-Base. */
const FORWARDED_DESCRIBE = forwardUri(LOCATION, 'live', AUTH);

const sdps: Array<{ name: string; base: DescribeBase; control: string; streamLost?: true }> = [
  { name: 'relative control, Content-Base as MediaMTX sends it (forwarded DESCRIBE + "/")', base: { request: LOCATION, contentBase: `${FORWARDED_DESCRIBE}/` }, control: 'trackID=0' },
  // Not what MediaMTX sends: RFC 3986 then replaces `live` itself; the gateway still maps it to the session's stream.
  { name: 'relative control, Content-Base without trailing slash', base: { request: LOCATION, contentBase: FORWARDED_DESCRIBE }, control: 'trackID=0', streamLost: true },
  { name: 'relative control, no Content-Base (base: the Location)', base: { request: LOCATION }, control: 'trackID=0' },
  { name: 'relative control, Content-Location only', base: { request: LOCATION, contentLocation: `${FORWARDED_DESCRIBE}/` }, control: 'trackID=0' },
  { name: 'relative control, a server echoing the Location with a trailing slash', base: { request: LOCATION, contentBase: `${LOCATION}/` }, control: 'trackID=0' },
  { name: 'relative control, a server echoing the Location as is', base: { request: LOCATION, contentBase: LOCATION }, control: 'trackID=0' },
  { name: 'absolute control', base: { request: LOCATION, contentBase: `${FORWARDED_DESCRIBE}/` }, control: `${NODE}/live/trackID=0` },
  { name: 'absolute control, no Content-Base', base: { request: LOCATION }, control: `${NODE}/live/trackID=0` },
  { name: 'absolute control carrying the token', base: { request: LOCATION }, control: `${LOCATION}/trackID=0` },
];

const rules: Array<{ client: string; setups: (b: DescribeBase, c: string) => string[]; play: (b: DescribeBase) => string }> = [
  { client: 'RFC 2326 C.1.1 / RFC 7826 / MS-RTSP', setups: (b, c) => [rfc2326Control(b, c)], play: (b) => rfc2326Control(b, '*') },
  { client: 'GStreamer rtspsrc (join, then its non-compliant retry)', setups: gstreamerControls, play: (b) => b.contentBase ?? b.request },
  { client: 'FFmpeg', setups: (b, c) => [ffmpegControl(b, c)], play: (b) => b.contentBase ?? b.request },
  { client: 'media3', setups: (b, c) => [media3Control(b, c)], play: (b) => b.request },
];

describe('the redirect URL under every client rule', () => {
  it('carries the token as the last path segment, not a query, and the DESCRIBE goes on without it', () => {
    expect(LOCATION).toBe(`${NODE}/live/token=${TOKEN}`);
    expect(readTokenUri(LOCATION)).toEqual({ authority: AUTH, segments: ['live'], token: TOKEN });
    expect(FORWARDED_DESCRIBE).toBe(AGGREGATE);
  });

  for (const rule of rules) {
    for (const sdp of sdps) {
      it(`${rule.client}: ${sdp.name}`, () => {
        for (const url of rule.setups(sdp.base, sdp.control)) {
          // The stream stays the first path segment whatever the rule (a query carrier loses it to RFC 3986).
          if (!sdp.streamLost) expect(readTokenUri(url)?.segments[0], url).toBe('live');
          expect(forwardUri(url, 'live', AUTH), url).toBe(SETUP);
        }
        expect(forwardUri(rule.play(sdp.base), 'live', AUTH)).toBe(AGGREGATE);
      });
    }
  }

  it('an older Location with ?token= still maps back (FFmpeg- and media3-style forms, and RFC 3986 losing the stream)', () => {
    const old = `${NODE}/live?token=${TOKEN}`;
    expect(readTokenUri(old)?.token).toBe(TOKEN);
    expect(forwardUri(`${old}/trackID=0`, 'live', AUTH)).toBe(SETUP);
    expect(forwardUri(`${NODE}/live/trackID=0?token=${TOKEN}`, 'live', AUTH)).toBe(SETUP);
    expect(forwardUri(`${NODE}/trackID=0`, 'live', AUTH)).toBe(SETUP);
    expect(forwardUri(old, 'live', AUTH)).toBe(AGGREGATE);
    expect(forwardUri(`${old}/`, 'live', AUTH)).toBe(AGGREGATE);
  });

  it('a token connection stays on its stream: another stream named in a later request is read as a control of this one', () => {
    expect(forwardUri(`${NODE}/other/trackID=0`, 'live', AUTH)).toBe(`${NODE}/live/other/trackID=0`);
    expect(forwardUri('*', 'live', AUTH)).toBe('*');
    expect(forwardUri('/live/token=x/trackID=1', 'live', AUTH)).toBe(`${NODE}/live/trackID=1`);
  });
});
