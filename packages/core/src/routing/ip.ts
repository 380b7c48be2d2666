// The address helpers live in net/address.ts; this path is kept for the modules that import it here.
export { ipGroups, normalizeIp, splitHostPort, trimBase, urlHostPort } from '../net/address.js';
