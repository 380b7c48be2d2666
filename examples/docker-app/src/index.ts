// The reference app's building blocks, for tests and for people assembling their own app.
export { resolveHome, CONFIG_FILE, type Home } from './home/home.js';
export { selectPlugins, KNOWN_PLUGINS } from './home/plugins.js';
export { loadHome, type Loaded } from './home/loaded.js';
export { startHaven, type Running } from './runtime/start.js';
export { apiToken } from './home/api-token.js';
export { joinWithBundle, entryFromShareCode, makeJoinBundle, addNodeOffline } from './node/join.js';
export { readJoinState, type JoinState } from './home/join-state.js';
export { buildUrls, type HavenUrls } from './runtime/urls.js';
export { originTemplate, nodeTemplate } from './home/template.js';
export { crossPluginSettings, settingsOf, REPORT_PORT, type CrossPluginSettings } from './home/derived.js';
export { originWireguard, isOriginVpn, type OriginVpn } from './home/origin-vpn.js';
export { doctor, DOCTOR_CHECKS } from './doctor/doctor.js';
export { type Check, type Finding, type DoctorContext } from './doctor/findings.js';
export { hostReach, publicHostWarning } from './home/public-host.js';
