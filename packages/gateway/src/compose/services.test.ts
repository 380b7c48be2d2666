import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createHaven, createLogger, definePlugin, type Haven } from '@haven/core';
import { freePort } from '@haven/core/testing';
import { gatewayServices } from './services.js';
import type { HlsGateway } from '../hls/gateway.js';
import type { RtspGateway } from '../rtsp/gateway.js';

const secrets = { streamKey: 'StreamKey1234567890', viewerPassword: 'ViewerPass123456', relayPassword: 'RelayPass1234567890' };


/** Send one request; resolve with what came back within `ms`. */
function ask(port: number, text: string, ms = 300): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    const s = connect(port, '127.0.0.1', () => s.write(text));
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.on('error', () => resolve(out));
    setTimeout(() => {
      s.destroy();
      resolve(out);
    }, ms);
  });
}

describe('gatewayServices', () => {
  let haven: Haven | undefined;
  afterEach(async () => {
    await haven?.stop();
    haven = undefined;
  });

  it('an origin gets registry, health, router and both gateways, wired to the plugins', async () => {
    let received = '';
    const sockets = new Set<Socket>();
    const mtx = createServer((s) => {
      sockets.add(s);
      s.on('data', (d: Buffer) => {
        received += d.toString('latin1');
        s.write('RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n');
      });
    }).listen(0, '127.0.0.1');
    await once(mtx, 'listening');
    const mtxPort = (mtx.address() as { port: number }).port;
    const [rtspPort, hlsPort] = [await freePort(), await freePort()];
    const fake = definePlugin({
      name: 'fake-media',
      schema: z.strictObject({}),
      setup: () => ({
        locator: { name: 'table', capabilities: { ipv6: true, updates: false }, locate: () => ({ lat: 40.7, lon: -74 }) },
        mediaServer: {
          name: 'fake',
          capabilities: { protocols: { rtsp: true }, proxyProtocol: true, liveSecrets: true },
          apply: async () => {},
          stats: async (name: string) => ({ name, ready: true, readers: 0, bytesIn: 0, bytesOut: 0, tracks: [] }),
          kick: async () => false,
          endpoints: () => ({ rtsp: `127.0.0.1:${mtxPort}` }),
          close: async () => {},
        },
      }),
    });
    haven = createHaven(
      { role: 'origin', region: 'us-east', public: { host: '127.0.0.1', rtspPort, hlsPort, bind: '127.0.0.1' }, nodes: [{ name: 'fra', region: 'eu-central', rtsp: 'rtsp://127.0.0.1:9' }] },
      [fake],
      { secrets, logger: createLogger({ level: 'silent' }), services: gatewayServices },
    );
    await haven.start();
    const s = haven.services;
    expect(s.list.map((x) => x.name)).toEqual(['health', 'rtsp-gateway', 'hls-gateway']);
    expect(s.registry?.list().map((n) => n.name)).toEqual(['origin', 'fra']);
    const [, rtspGateway, hlsGateway] = s.list as [unknown, RtspGateway, HlsGateway];
    expect(rtspGateway.address()?.port).toBe(rtspPort);
    expect(hlsGateway.address()?.port).toBe(hlsPort);
    // The viewer is nearest the origin; `fra` (a closed port) may already be probed down when this runs.
    const explained = s.router?.explain('127.0.0.1', 'Lavf/60');
    expect(explained).toMatchObject({ mode: 'splice', node: 'origin' });
    expect(['origin-nearest', 'fallback-no-healthy-node']).toContain(explained?.reason);
    // OPTIONS is the gateway's; the authenticated DESCRIBE is spliced with the gateway's token in place of the password.
    expect(await ask(rtspPort, 'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: VRChat\r\n\r\n')).toMatch(/^RTSP\/1.0 200 OK/);
    expect(received).toBe('');
    const basic = Buffer.from(`viewer:${secrets.viewerPassword}`).toString('base64');
    expect(await ask(rtspPort, `DESCRIBE rtsp://127.0.0.1/live RTSP/1.0\r\nCSeq: 2\r\nUser-Agent: VRChat\r\nAuthorization: Basic ${basic}\r\n\r\n`, 1500)).toMatch(/^RTSP\/1.0 200 OK/);
    expect(received).toMatch(/^PROXY TCP4 127\.0\.0\.1 127\.0\.0\.1 \d+ \d+\r\nDESCRIBE rtsp:\/\/127.0.0.1\/live RTSP\/1.0\r\n/);
    const injected = /Authorization: Basic (\S+)/.exec(received)?.[1] ?? '';
    expect(Buffer.from(injected, 'base64').toString()).toMatch(/^haven-token:v2\./);
    expect(received).not.toContain(basic);
    await haven.stop();
    expect(await ask(rtspPort, 'x')).toBe('');
    for (const x of sockets) x.destroy();
    mtx.close();
  });

  it('a node gets its own registry and health monitor only', async () => {
    haven = createHaven({ role: 'node', name: 'fra', region: 'eu-central', public: { host: '127.0.0.1', rtspPort: 9, hlsPort: 9 } }, [], {
      secrets,
      services: gatewayServices,
      logger: createLogger({ level: 'silent' }),
    });
    await haven.start();
    expect(haven.services.list.map((x) => x.name)).toEqual(['health']);
    expect(haven.services.registry?.list().map((n) => n.name)).toEqual(['fra']);
    expect(haven.services.router).toBeUndefined();
  });
});
