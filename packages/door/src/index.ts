/**
 * @haven/door: what every network door of a Haven (the viewer gateways, the control API, the media
 * server's hook and ACME listeners) uses at its edge. It depends on nothing, so any package can.
 */
export {
  BadInput,
  guardRequestListener,
  guardConnection,
  guardCallback,
  logDoorFault,
  parseRequestTarget,
  decodeComponent,
  requestTargetForLog,
  requestLineForLog,
  type DoorGuardOptions,
  type DoorLogger,
} from './door-guard.js';
export { TokenBuckets, type TokenBucketsOptions } from './token-buckets.js';
