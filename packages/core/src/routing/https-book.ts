/**
 * Origin side: which nodes serve HTTPS now. A node with `tls` sends its HTTPS HLS base URL in each
 * report (`NodeReport.httpsUrl`) only while it serves a CA certificate for its address; the origin
 * keeps the last one per node and forgets it when the reports stop saying so or stop coming. A node
 * without a certificate yet is never offered to an entry's HTTPS door.
 *
 * With `hostOf`, a URL counts only when it names the node's own public host (the host of the RTSP URL
 * the origin has for it): a certificate is for the node's address, and a viewer the HTTPS door sends
 * on must land on that node, never on a host a report chose.
 */
export interface HttpsUrlBook {
  /** Take a node's report: its URL, or none (no certificate now). Returns why a URL was refused. */
  report(node: string, httpsUrl: string | undefined): string | undefined;
  /** The node's HTTPS base URL, if its last report (within the TTL) carried one. */
  get(node: string): string | undefined;
}

export function createHttpsUrlBook(o: { ttlMs: number; now?: () => number; hostOf?: (node: string) => string | undefined }): HttpsUrlBook {
  const now = o.now ?? Date.now;
  const book = new Map<string, { url: string; at: number }>();
  const refusal = (node: string, httpsUrl: string): string | undefined => {
    if (!o.hostOf) return undefined;
    const expected = o.hostOf(node);
    if (expected === undefined) return `node "${node}" is not in this Haven`;
    let host: string;
    try {
      host = new URL(httpsUrl).hostname;
    } catch {
      return `node "${node}" reported an HTTPS URL that is not a URL`;
    }
    return host.toLowerCase() === expected.toLowerCase() ? undefined : `node "${node}" reported an HTTPS URL for host ${host}, not its public host ${expected}: check its public.host and its tls settings`;
  };
  return {
    report(node, httpsUrl) {
      const why = httpsUrl ? refusal(node, httpsUrl) : undefined;
      if (httpsUrl && !why) book.set(node, { url: httpsUrl, at: now() });
      else book.delete(node);
      return why;
    },
    get(node) {
      const e = book.get(node);
      if (!e) return undefined;
      if (now() - e.at > o.ttlMs) {
        book.delete(node);
        return undefined;
      }
      return e.url;
    },
  };
}
