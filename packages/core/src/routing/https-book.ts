/**
 * Origin side: which nodes serve HTTPS now. A node with `tls` sends its HTTPS HLS base URL in each
 * report (`NodeReport.httpsUrl`) only while it serves a CA certificate for its address; the origin
 * keeps the last one per node and forgets it when the reports stop saying so or stop coming. A node
 * without a certificate yet is never offered to an entry's HTTPS door.
 */
export interface HttpsUrlBook {
  /** Take a node's report: its URL, or none (no certificate now). */
  report(node: string, httpsUrl: string | undefined): void;
  /** The node's HTTPS base URL, if its last report (within the TTL) carried one. */
  get(node: string): string | undefined;
}

export function createHttpsUrlBook(o: { ttlMs: number; now?: () => number }): HttpsUrlBook {
  const now = o.now ?? Date.now;
  const book = new Map<string, { url: string; at: number }>();
  return {
    report(node, httpsUrl) {
      if (httpsUrl) book.set(node, { url: httpsUrl, at: now() });
      else book.delete(node);
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
