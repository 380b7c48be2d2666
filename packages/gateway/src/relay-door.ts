import { createServer, type Server, type Socket } from 'node:net';
import { listenOrThrow } from './listen.js';
import { spliceTo } from './rtsp/splice.js';

export interface RelayDoorOptions {
  /** The local media server nodes pull from (the origin's MediaMTX RTSP listener on loopback). */
  upstream: { host: string; port: number };
  /** Most node connections at once (each node holds one or two). Default 256. */
  maxConnections?: number;
}

export interface RelayDoor {
  /** Open the door on the VPN address (idempotent); resolves with the bound port. */
  listen(at: { host: string; port: number }): Promise<number>;
  close(): Promise<void>;
  readonly listening: boolean;
}

/**
 * The origin's door for nodes on its VPN address: a TCP splice to the media server on loopback, with
 * a PROXY header so the media server sees the node's VPN address (its relay credential is accepted only
 * from the VPN subnet). The media server itself never listens on the VPN address: it starts before the
 * tunnel exists (the tunnel comes up with the first node, live), and rebinding it would drop every
 * viewer and the publisher. The door opens when the tunnel does.
 */
export function createRelayDoor(o: RelayDoorOptions): RelayDoor {
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  const onConnection = (node: Socket) => {
    sockets.add(node);
    node.once('close', () => sockets.delete(node));
    spliceTo(node, { host: o.upstream.host, port: o.upstream.port, replay: Buffer.alloc(0), proxyProtocol: true, onFail: () => node.destroy() });
  };
  return {
    get listening() {
      return !!server?.listening;
    },
    async listen(at) {
      if (server?.listening) return (server.address() as { port: number }).port;
      server = createServer({ noDelay: true }, onConnection);
      server.maxConnections = o.maxConnections ?? 256;
      const bound = await listenOrThrow(server, at, 'relay door for nodes', 'plugins.mediamtx.rtspAddress or plugins.wireguard.subnet');
      return bound?.port ?? at.port;
    },
    async close() {
      const s = server;
      server = undefined;
      if (!s?.listening) return;
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      for (const sock of sockets) sock.destroy();
      await closed;
    },
  };
}
