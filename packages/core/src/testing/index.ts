/**
 * Shared contract suites. A plugin (ours or a third party's) calls the suite for each contract it
 * implements from its own test file, so every implementation is held to the same behaviour:
 *
 *   import { locatorContract } from '@haven/core/testing';
 *   locatorContract('csv locator', async () => ({ locator: myLocator(), known: [{ ip: '1.2.3.4' }] }));
 *
 * The suites use vitest (a peer dependency of this entry point only).
 */
export { locatorContract, type LocatorFixture } from './locator.js';
export { vpnContract, type VpnFixture } from './vpn.js';
export { mediaServerContract, type AccessResult, type MediaServerAccess, type MediaServerFixture } from './media-server.js';
export { probeContract, type ProbeFixture } from './probe.js';
export { pluginContract, type PluginFixture } from './plugin.js';
export { freePort } from './free-port.js';
