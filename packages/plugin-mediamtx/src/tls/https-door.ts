import type { HttpsTarget, ViewerCredentials } from '@haven/gateway';
import type { TlsManager } from './manager.js';

/** How the node's HTTPS entry routes, handed in by the app once the node follows the origin's routing state. */
export interface HttpsEntryRouting {
  /** The node a viewer at `ip` reads `stream` from (see `EntryRouting.chooseHttps`). */
  choose(ip: string, stream: string): HttpsTarget | undefined;
  /** A viewer at `ip` connected: locating it may start now (see `Router.prepare`). */
  prepare?(ip: string): void;
  /** The viewer check (the routing state's HA1 on a node of a private origin); undefined while no routing state is held (503). */
  viewer(): ViewerCredentials | undefined;
}

/**
 * A node's HTTPS door as the app sees it: this node's own HTTPS HLS base URL while it serves a CA
 * certificate for its address (what its reports offer the origin), and the routing slot of its HTTPS
 * entry on :443. Until routing is set, the entry sends each viewer to this node's own playlist and
 * checks the viewer password the node holds.
 */
export class HttpsDoor {
  #routing: HttpsEntryRouting | undefined;

  constructor(
    private readonly tls: TlsManager,
    /** e.g. `https://203.0.113.7:8443` (MediaMTX's HLS listener, with the certificate). */
    readonly hlsBase: string,
  ) {}

  /** Route the HTTPS entry with the node's entry routing; undefined goes back to "this node, its own password". */
  route(routing: HttpsEntryRouting | undefined): void {
    this.#routing = routing;
  }

  routing(): HttpsEntryRouting | undefined {
    return this.#routing;
  }

  /**
   * `hlsBase` while a CA certificate (not the self-signed placeholder) for this address is served and
   * within its validity, whatever the renewal state; undefined otherwise (no viewer is sent here over HTTPS).
   */
  offer(now = Date.now()): string | undefined {
    const c = this.tls.status().certificate;
    if (!c || c.selfSigned) return undefined;
    return Date.parse(c.notBefore) <= now && now < Date.parse(c.notAfter) ? this.hlsBase : undefined;
  }
}
