import { describe, expect, it } from 'vitest';
import { checkOptions } from './options.js';
import { wireguard } from './plugin.js';

describe('options', () => {
  it('applies defaults', () => {
    expect(checkOptions({})).toMatchObject({ subnet: '10.77.0.0/24', listenPort: 51820, mtu: 1420, keepaliveSec: 25, implementation: 'auto' });
  });

  it.each([
    [{ listenPort: 0 }, '[haven/wireguard] listenPort: expected 1-65535, got 0'],
    [{ subnet: '8.8.8.0/24' }, 'subnet: expected a private IPv4 subnet such as 10.77.0.0/24, got "8.8.8.0/24"'],
    [{ endpoint: 'nope' }, 'endpoint: expected host:port, e.g. 198.51.100.7:51820, got "nope"'],
    [{ mtu: 100 }, 'mtu: expected 1280-9000, got 100'],
    [{ interfaceName: 'a-very-long-interface-name' }, 'interfaceName: expected 1-15 letters'],
    [{ origin: { publicKey: 'short', endpoint: '1.2.3.4:5' } }, 'origin.publicKey: expected a WireGuard public key'],
    [{ listen: 1 }, 'listen: unknown option'],
  ])('factory refuses %j', (opts, message) => {
    expect(() => wireguard(opts as never)).toThrow(message);
    try {
      wireguard(opts as never);
    } catch (err) {
      expect(err).toMatchObject({ code: 'OPTIONS_INVALID', plugin: 'wireguard' });
    }
  });

  it('builds a plugin', () => {
    const p = wireguard({ subnet: '10.88.0.0/24' });
    expect(p.name).toBe('wireguard');
    expect(p.schema.parse({})).toMatchObject({ subnet: '10.77.0.0/24' });
  });
});
