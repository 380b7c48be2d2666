#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { isHavenError } from '@haven/core';
import { init, nodeAdd, nodeJoin, nodeKeygen, nodeRemove, printUrls, rotate, route, status } from './commands/commands.js';
import { playersReset } from './commands/players.js';
import { resolveHome } from './home/home.js';
import { progress } from './runtime/output.js';
import { doctor } from './doctor/doctor.js';
import { listNodes, printBundle } from './commands/node-commands.js';
import { warnPublicHost } from './home/public-host.js';
import { loadHome } from './home/loaded.js';
import { startHaven } from './runtime/start.js';
import { armStopDeadline } from './runtime/stop-deadline.js';
import { versionText } from './commands/about.js';
import { flatHelp } from './commands/help.js';

function int(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
}

const program = new Command()
  .name('haven')
  .description('Stream Haven: OBS to VRChat and any RTSP player from your own machine, with friends as relay nodes.')
  .option('-V, --version', 'print the version of haven and of the MediaMTX it runs')
  .option('-d, --dir <folder>', 'folder holding haven.yaml (default: $HAVEN_DIR or the current folder)')
  .option('--json-logs', 'log as JSON lines even on a terminal (the default when stdout is not a terminal)')
  .addOption(new Option('--log-level <level>', 'log level for this run, instead of log.level in haven.yaml').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
  .showHelpAfterError()
  .configureHelp(flatHelp)
  .configureOutput({ outputError: (str, write) => write(str) });

// Asked of the binary each time: the MediaMTX on this machine changes with the set-up, not with haven.
program.on('option:version', () => {
  process.stdout.write(versionText());
  process.exit(0);
});

const home = () => resolveHome(program.opts<{ dir?: string }>().dir);

program
  .command('init')
  .description('write a commented haven.yaml and generate the secrets')
  .addOption(new Option('--role <role>', 'origin (your machine) or node (a friend\'s relay)').choices(['origin', 'node']).default('origin'))
  .option('--name <name>', 'name of this Haven or node')
  .option('--public-host <host>', 'address viewers and nodes reach this machine at (default $HAVEN_PUBLIC_HOST or 127.0.0.1)')
  .option('--region <region>', 'where this machine is: eu-central, us-east, an ISO country code...')
  .addOption(new Option('--exposure <exposure>', 'origin: private (viewers through entry nodes only, no port forward) or public; unset: public until the first node, then private').choices(['private', 'public']))
  .action(async (o: { role: 'origin' | 'node'; name?: string; publicHost?: string; region?: string; exposure?: 'private' | 'public' }) => {
    await init(home(), o);
    progress(o.role === 'origin' ? 'next: `haven start`, then `haven urls` for the OBS and viewer URLs' : 'next: `haven node keygen --region <region>` and send the share code to the streamer');
  });

program
  .command('start')
  .description('run this machine\'s role in the foreground (Ctrl-C stops it cleanly)')
  .addOption(new Option('--init <role>', 'run `init` first when there is no haven.yaml').choices(['origin', 'node']))
  .action(async (o: { init?: 'origin' | 'node' }) => {
    const h = home();
    const fresh = !!o.init && !existsSync(h.configFile);
    const l = o.init ? await init(h, { role: o.init }) : await loadHome(h);
    // `init` warned already when it wrote the file.
    if (!fresh) warnPublicHost(l.loaded.config.public.host, 'the URLs and join bundles this Haven gives out');
    // Signals are taken before anything starts, and before "ready" is printed: a Ctrl-C that comes
    // right after that line (or during start) must stop the Haven cleanly, not kill the process.
    let running: Awaited<ReturnType<typeof startHaven>> | undefined;
    let stopRequested: string | undefined;
    let stopping = false;
    const shutdown = (signal: string) => {
      if (!running) {
        if (!stopRequested) progress(`${signal}: stopping as soon as the start has finished`);
        stopRequested ??= signal;
        return;
      }
      if (stopping) return;
      stopping = true;
      progress(`${signal}: stopping`);
      armStopDeadline(progress);
      running
        .stop()
        .then(() => process.exit(0))
        .catch(() => process.exit(1));
    };
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    const g = program.opts<{ jsonLogs?: boolean; logLevel?: string }>();
    running = await startHaven(l, progress, { jsonLogs: !!g.jsonLogs, ...(g.logLevel ? { logLevel: g.logLevel } : {}) });
    if (stopRequested) return shutdown(stopRequested);
    progress('ready. `haven urls` prints the OBS and viewer URLs (they contain secrets, so they are not logged here)');
  });

program
  .command('urls')
  .description('print the OBS publish URLs and the viewer URLs (they contain secrets)')
  .option('--json', 'machine-readable output')
  .action(async (o: { json?: boolean }) => printUrls(await loadHome(home()), !!o.json));

program
  .command('status')
  .description('publisher, nodes with health and viewers (asks the running origin)')
  .option('--json', 'machine-readable output')
  .option('--quiet', 'no output; exit code 0 when running')
  .action(async (o: { json?: boolean; quiet?: boolean }) => {
    process.exitCode = await status(await loadHome(home()), { json: !!o.json, quiet: !!o.quiet });
  });

const node = program.command('node').description('join friends as relay nodes');
node
  .command('keygen')
  .description('(node) make this node\'s key pair and print its share code')
  .requiredOption('--region <region>', 'where this node is: eu-central, us-east, an ISO country code...')
  .option('--name <name>', 'node name (lowercase letters, digits, dashes)')
  .option('--public-host <host>', 'address viewers reach this node at')
  .option('--rtsp-port <port>', 'public RTSP port', int)
  .option('--hls-port <port>', 'public HLS port', int)
  .action(async (o: { region: string; name?: string; publicHost?: string; rtspPort?: number; hlsPort?: number }) => nodeKeygen(home(), o));
node
  .command('add')
  .description('(origin) add a node from its share code, live, and print its join bundle')
  .argument('<share-code>', 'the code the node printed')
  .option('--name <name>', 'name to use instead of the one in the code')
  .option('--capacity <viewers>', 'max viewers on that node (0 = no limit)', int)
  .option('--json', 'machine-readable output')
  .action(async (code: string, o: { name?: string; capacity?: number; json?: boolean }) => nodeAdd(await loadHome(home()), { shareCode: code, ...o, json: !!o.json }));
node
  .command('bundle')
  .description('(origin) print the join bundle of a node that was added, again')
  .argument('<name>', 'node name')
  .option('--json', 'machine-readable output')
  .action(async (name: string, o: { json?: boolean }) => printBundle(await loadHome(home()), name, !!o.json));
node
  .command('list')
  .description('(origin) the nodes, with health and viewers when the origin runs')
  .option('--json', 'machine-readable output')
  .action(async (o: { json?: boolean }) => listNodes(await loadHome(home()), !!o.json));
node
  .command('join')
  .description('(node) join the Haven with the bundle the origin printed')
  .argument('<bundle>', 'the join bundle')
  .action(async (bundle: string) => nodeJoin(await loadHome(home()), bundle));
node
  .command('remove')
  .description('(origin) remove a node, live')
  .argument('<name>', 'node name')
  .action(async (name: string) => nodeRemove(await loadHome(home()), name));

program
  .command('route')
  .description('dry run: which node would this viewer get, and why')
  .argument('<ip>', 'viewer IP address')
  .option('--user-agent <ua>', 'the player\'s User-Agent (decides redirect or local serving)')
  .option('--stream <name>', 'stream name (default: the first)')
  .option('--json', 'machine-readable output')
  .action(async (ip: string, o: { userAgent?: string; stream?: string; json?: boolean }) => route(await loadHome(home()), { ip, ...o, json: !!o.json }));

program
  .command('doctor')
  .description('check this machine: tools, rights, MediaMTX, ports, public host, nodes over the VPN (exit 1 on a problem)')
  .option('--json', 'machine-readable output')
  .action(async (o: { json?: boolean }) => {
    process.exitCode = await doctor(await loadHome(home()), { json: !!o.json });
  });

const secrets = program.command('secrets').description('the generated secrets');
secrets
  .command('rotate')
  .description('replace a secret (live when the origin runs)')
  .argument('<which>', 'viewer-password | stream-key | relay-password')
  .action(async (which: string) => rotate(await loadHome(home()), which));

const players = program.command('players').description('what the gateway learned about players (redirect or serve here)');
players
  .command('reset')
  .description('(origin) forget what was learned about one player, or about all: it is redirected again until new evidence')
  .argument('[player]', 'the player\'s User-Agent exactly as `haven status` shows it (default: every player)')
  .action(async (ua: string | undefined) => playersReset(await loadHome(home()), ua));

program.parseAsync(process.argv).catch((err: unknown) => {
  const msg = isHavenError(err) ? err.message : err instanceof Error ? err.message : String(err);
  process.stderr.write(`error: ${msg}\n`);
  process.exit(1);
});
