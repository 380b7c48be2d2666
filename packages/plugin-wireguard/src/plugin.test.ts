import { pluginContract, type PluginFixture } from '@haven/core/testing';
import { wireguard } from './plugin.js';

pluginContract('wireguard', () => ({
  // core/dist/testing's .d.ts carries its own copy of HavenPlugin/SecretStore, so the types do not
  // line up when typechecking against dist (vitest runs sources, where they are the same).
  plugin: wireguard() as unknown as PluginFixture['plugin'],
  valid: { subnet: '10.88.0.0/24', listenPort: 51821, endpoint: '198.51.100.7:51821', mtu: 1380, keepaliveSec: 20, implementation: 'userspace' },
  invalid: [
    { options: { listenPort: 0 }, path: 'listenPort' },
    { options: { subnet: '8.8.8.0/24' }, path: 'subnet' },
    { options: { endpoint: 'no-port' }, path: 'endpoint' },
    { options: { interfaceName: 'much-too-long-for-linux' }, path: 'interfaceName' },
    { options: { origin: { publicKey: 'short', endpoint: '1.2.3.4:5' } }, path: 'origin.publicKey' },
  ],
}));
