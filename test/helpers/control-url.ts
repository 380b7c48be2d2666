/**
 * How each RTSP client turns an SDP `a=control` into the URL it SETUPs (and which URL it PLAYs), from
 * their sources and specs. The emulators in rtsp-players.ts use these; test/gateway/control-url.test.ts
 * runs every rule against the Haven's redirect URL.
 */

/** The headers of a DESCRIBE answer that name a base, and the URL the client asked. */
export interface DescribeBase {
  /** The URL the DESCRIBE was sent to. */
  request: string;
  contentBase?: string;
  contentLocation?: string;
}

const ABSOLUTE = /^[a-z][a-z0-9+.-]*:/i;

/**
 * RFC 3986 section 5.2 reference resolution (WHATWG `URL` does it for non-special schemes such as
 * `rtsp:`): a relative control replaces the base's last path segment and drops its query.
 */
export function rfc3986Join(base: string, control: string): string {
  return new URL(control, base).toString();
}

/** Concatenation with one `/` between, the query (if any) left where it was: `base` + `/` + `control`. */
export function concatJoin(base: string, control: string): string {
  if (base.endsWith('/') && control.startsWith('/')) return base + control.slice(1);
  if (base.endsWith('/') || control.startsWith('/')) return base + control;
  return `${base}/${control}`;
}

/**
 * RFC 2326 C.1.1 (and RFC 7826 18.x / 22.3.1): the base is `Content-Base`, else `Content-Location`, else
 * the request URL; `*` is the base itself; a relative control is resolved against the base by the
 * generic URI rules (RFC 1808 then, RFC 3986 now). [MS-RTSP] (Windows Media Foundation, VRChat on PC)
 * defines no rule of its own: section 2.1 takes RFC 2326's, so its emulator uses this one.
 */
export function rfc2326Control(d: DescribeBase, control: string): string {
  const base = d.contentBase ?? d.contentLocation ?? d.request;
  if (control === '' || control === '*') return base;
  return ABSOLUTE.test(control) ? control : rfc3986Join(base, control);
}

/**
 * GStreamer rtspsrc (subprojects/gst-plugins-good/gst/rtsp/gstrtspsrc.c): `get_aggregate_control`
 * takes the session-level control, else `content_base`, else the request URL (`conninfo.url_str`);
 * `gst_rtspsrc_create_stream` keeps a control that is a valid URI and otherwise
 * `gst_uri_join_strings(base, control)` (RFC 3986). When the SETUP answer is 400, 404, 455, 451 or 503,
 * `try_non_compliant_url` retries once with `base` + `/` + `control` (no doubled slash). Both, in order.
 */
export function gstreamerControls(d: DescribeBase, control: string): string[] {
  const base = d.contentBase ?? d.request;
  if (ABSOLUTE.test(control)) return [control];
  if (control === '*') return [base];
  return [rfc3986Join(base, control), concatJoin(base, control)];
}

/**
 * FFmpeg libavformat/rtsp.c: `ff_rtsp_parse_line` keeps `Content-Base` of the DESCRIBE answer as
 * `rt->control_uri` (else the URL asked); `sdp_parse_line` "a=control:" copies it into each stream's
 * `control_url` and, for a control without a protocol, appends `/` (unless it ends with one) and the
 * control ("XXX: may need to add full url resolution"). A control with a protocol replaces it.
 */
export function ffmpegControl(d: DescribeBase, control: string): string {
  const base = d.contentBase ?? d.request;
  if (ABSOLUTE.test(control)) return control;
  return base.endsWith('/') ? base + control : `${base}/${control}`;
}

/**
 * androidx/media3 RtspMediaTrack.extractTrackUri (libraries/exoplayer_rtsp/.../RtspMediaTrack.java):
 * an absolute control is used as is; otherwise the base is `Content-Base`, else `Content-Location`, else
 * the session URI; `*` is the base; else `base.buildUpon().appendEncodedPath(control)`: android.net.Uri
 * adds the control as a path segment (one `/` between) and keeps the base's query after the path.
 * PLAY goes to the session URI (`RtspClient.startPlayback`: `sendPlayRequest(uri, …)`).
 */
export function media3Control(d: DescribeBase, control: string): string {
  if (ABSOLUTE.test(control)) return control;
  const base = d.contentBase ?? d.contentLocation ?? d.request;
  if (control === '*') return base;
  const m = /^([^?#]*)(\?[^#]*)?(#.*)?$/.exec(base) as RegExpExecArray;
  const path = m[1] as string;
  return `${path.endsWith('/') ? path : `${path}/`}${control}${m[2] ?? ''}${m[3] ?? ''}`;
}
