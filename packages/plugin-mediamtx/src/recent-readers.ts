/**
 * Addresses of readers admitted with a gateway token, per stream, for a while after their admission.
 * A node's report lists them with its current readers, so a viewer that played for a second between
 * two reports is still reported as having arrived (the origin matches arrivals to its redirects).
 * Bounded per stream; entries older than `keepMs` are dropped.
 */
export class RecentReaders {
  readonly #by = new Map<string, Map<string, number>>();

  constructor(
    readonly keepMs = 60_000,
    readonly maxPerStream = 5_000,
    private readonly now: () => number = Date.now,
  ) {}

  admitted(stream: string, ip: string): void {
    let m = this.#by.get(stream);
    if (!m) this.#by.set(stream, (m = new Map()));
    m.delete(ip);
    m.set(ip, this.now());
    while (m.size > this.maxPerStream) m.delete(m.keys().next().value as string);
  }

  /** Addresses admitted within `keepMs`, oldest first. */
  list(stream: string): string[] {
    const m = this.#by.get(stream);
    if (!m) return [];
    const cut = this.now() - this.keepMs;
    for (const [ip, at] of m) {
      if (at > cut) break;
      m.delete(ip);
    }
    return [...m.keys()];
  }
}
