// Stand-in nodes for the relay-scale benchmark, in their own process (nodes are other machines: their
// answers must not queue on the gateway's event loop, nor their allocations count as its GC): an
// RTSP responder per node address, opened and closed on request over IPC, each answer carrying the
// moment it took effect so the benchmark can tell whether a decision picked a node already dead.
// Run as `node --import tsx bench/stand-ins.ts --stand-ins <port>` by `StandIns`.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

const SDP = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\n';

/** The stand-ins' side (their own process): an RTSP responder per node, opened and closed on request. */
class StandInServer {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  constructor(
    readonly host: string,
    readonly port: number,
  ) {}
  async up(): Promise<void> {
    const server = createServer((s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
      s.on('error', () => {});
      s.on('data', (d: Buffer) => {
        const cseq = /CSeq: (\d+)/i.exec(d.toString('latin1'))?.[1] ?? '1';
        s.write(`RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nContent-Type: application/sdp\r\nContent-Length: ${SDP.length}\r\n\r\n${SDP}`);
      });
    });
    server.listen(this.port, this.host);
    await once(server, 'listening');
    this.#server = server;
  }
  async down(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    for (const sock of this.#sockets) sock.destroy();
    if (s) await new Promise((r) => s.close(r));
  }
}

/** Wall-clock time in ms with sub-ms resolution, comparable between the processes of this run. */
const wallNow = (): number => performance.timeOrigin + performance.now();

interface StandInOp {
  id: number;
  op: 'up' | 'down';
  host: string;
}

/** The stand-ins' process: runs `up`/`down` requests and answers each with the moment it took effect. */
function standInProcess(port: number): void {
  const servers = new Map<string, StandInServer>();
  process.on('message', (m: StandInOp) => {
    let s = servers.get(m.host);
    if (!s) servers.set(m.host, (s = new StandInServer(m.host, port)));
    // A node is dead from the moment it starts closing; alive once it listens.
    const at = wallNow();
    void s[m.op]().then(() => process.send?.({ id: m.id, at: m.op === 'down' ? at : wallNow() }));
  });
  process.on('disconnect', () => process.exit(0));
}

/** The stand-ins' process, seen from the gateway's. */
export class StandIns {
  readonly #child: ChildProcess;
  readonly #waiting = new Map<number, (at: number) => void>();
  #next = 0;
  constructor(port: number) {
    this.#child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--stand-ins', String(port)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#child.on('message', (m: { id: number; at: number }) => {
      this.#waiting.get(m.id)?.(m.at);
      this.#waiting.delete(m.id);
    });
  }
  /** The process's id (its CPU time is read from /proc). */
  get pid(): number | undefined {
    return this.#child.pid;
  }
  /** Ask for `op`; resolves with the moment (in this process's `performance.now()` terms) it took effect. */
  run(op: 'up' | 'down', host: string): Promise<number> {
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#waiting.set(id, (at) => resolve(at - performance.timeOrigin));
      this.#child.send({ id, op, host } satisfies StandInOp);
    });
  }
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.disconnect();
    await once(this.#child, 'exit');
  }
}

/** One stand-in node and when it was dead, from its own process's reports (closing began -> listening again). */
export class StandIn {
  alive = false;
  readonly dead: Array<[number, number]> = [];
  constructor(
    readonly name: string,
    readonly host: string,
    readonly procs: StandIns,
  ) {}
  async up(): Promise<void> {
    const at = await this.procs.run('up', this.host);
    const last = this.dead.at(-1);
    if (last && last[1] === Infinity) last[1] = at;
    this.alive = true;
  }
  async down(): Promise<void> {
    this.alive = false;
    this.dead.push([performance.now(), Infinity]);
    const last = this.dead.at(-1) as [number, number];
    last[0] = await this.procs.run('down', this.host);
  }
  /** Was it dead at `t` (this process's `performance.now()`)? */
  deadAt(t: number): boolean {
    return this.dead.some(([a, b]) => t >= a && t < b);
  }
}

const at = process.argv.indexOf('--stand-ins');
if (at > 0 && process.argv[1] === fileURLToPath(import.meta.url)) standInProcess(Number(process.argv[at + 1]));
