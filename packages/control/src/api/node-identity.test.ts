import { describe, expect, it } from 'vitest';
import type { HavenNode } from '@haven/core';
import { reportingNode } from './node-identity.js';

const node = (name: string, vpnAddress?: string, origin = false): HavenNode => ({
  name,
  location: { lat: 0, lon: 0 },
  rtspUrl: `rtsp://${name}:8554`,
  capacity: 0,
  ...(vpnAddress ? { vpnAddress } : {}),
  ...(origin ? { origin: true } : {}),
});
const nodes = [node('origin', '10.77.0.1', true), node('par', '10.77.0.2'), node('fra', '10.77.0.3'), node('lab')];

describe('reportingNode', () => {
  it('takes the node whose VPN address sent the report', () => {
    expect(reportingNode(nodes, 'par', '10.77.0.2').name).toBe('par');
    expect(reportingNode(nodes, 'par', '::ffff:10.77.0.2').name).toBe('par');
  });

  it('refuses a node reporting for another node, or a stranger reporting for a VPN node', () => {
    expect(() => reportingNode(nodes, 'fra', '10.77.0.2')).toThrow(/node "par" sent a report for "fra"/);
    expect(() => reportingNode(nodes, 'fra', '192.0.2.9')).toThrow(/must come from its VPN address/);
    expect(() => reportingNode(nodes, 'origin', '10.77.0.1')).toThrow(/no relay node named "origin"/);
    expect(() => reportingNode(nodes, 'nope', '10.77.0.2')).toThrow(/no relay node named "nope"/);
  });

  it("a sender its own credential proved is taken from anywhere, for itself only", () => {
    expect(reportingNode(nodes, 'fra', '192.0.2.9', 'fra').name).toBe('fra');
    expect(() => reportingNode(nodes, 'fra', '192.0.2.9', 'par')).toThrow(/must come from its VPN address/);
    expect(() => reportingNode(nodes, 'nope', '192.0.2.9', 'nope')).toThrow(/no relay node named "nope"/);
  });

  it('a node without a VPN address, or a loopback sender, is taken by name', () => {
    expect(reportingNode(nodes, 'lab', '192.0.2.9').name).toBe('lab');
    expect(reportingNode(nodes, 'fra', '127.0.0.1').name).toBe('fra');
  });
});
