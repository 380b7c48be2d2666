import { describe, expect, it } from 'vitest';
import { hostReach, publicHostWarning } from './public-host.js';

describe('public host reach', () => {
  it('loopback, private, link-local and CGNAT addresses are not reachable from elsewhere; public ones and names are', () => {
    for (const h of ['127.0.0.1', '127.8.9.1', 'localhost', '::1', '[::1]']) expect(hostReach(h), h).toBe('loopback');
    for (const h of ['10.0.0.5', '172.16.0.1', '172.31.255.2', '192.168.1.20', '169.254.3.4', '100.64.0.1', 'fd12::1', 'fe80::1']) expect(hostReach(h), h).toBe('private');
    for (const h of ['198.51.100.7', '172.32.0.1', '8.8.8.8', '2001:db8::1', 'stream.example.org', '::ffff:8.8.8.8']) expect(hostReach(h), h).toBe('public');
    expect(hostReach('::ffff:192.168.0.1')).toBe('private');
  });

  it('the warning says who can use what goes out, and how to set the public IP', () => {
    expect(publicHostWarning('198.51.100.7', 'the join bundle')).toBeUndefined();
    expect(publicHostWarning('127.0.0.1', 'the join bundle')).toBe(
      'public.host is 127.0.0.1 (loopback), which only this machine can reach: the join bundle will not work for friends and viewers elsewhere. Set your public IP: `haven init --public-host <ip>` on a new Haven, or public.host in haven.yaml',
    );
    expect(publicHostWarning('192.168.1.20', 'these URLs')).toMatch(/\(private\), which only your local network can reach: these URLs will not work/);
  });
});
