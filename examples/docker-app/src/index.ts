// The reference app's building blocks, for tests and for people assembling their own app.
export { resolveHome, CONFIG_FILE, type Home } from './home.js';
export { selectPlugins, KNOWN_PLUGINS } from './plugins.js';
export { loadHome, startHaven, apiToken, type Loaded, type Running } from './runtime.js';
export { joinWithBundle, entryFromShareCode, makeJoinBundle, addNodeOffline, readJoinState, type JoinState } from './join.js';
export { buildUrls, type HavenUrls } from './urls.js';
export { originTemplate, nodeTemplate } from './template.js';
export { crossPluginSettings, settingsOf, REPORT_PORT, type CrossPluginSettings } from './derived.js';
export { originWireguard, isOriginVpn, type OriginVpn } from './origin-vpn.js';
export { doctor, DOCTOR_CHECKS, type Check, type Finding, type DoctorContext } from './doctor.js';
export { hostReach, publicHostWarning } from './public-host.js';
