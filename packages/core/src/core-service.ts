/** A part with a lifecycle (health monitor, gateway, state sync). */
export interface CoreService {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}
