import type { LogLevel } from '../core/events.js';
import type { LocalResponse } from '../core/pipeline.js';
import { ActiveChecks } from './active-checks.js';
import { BackendGroup } from './group.js';
import type { HealthProbe } from './health-probe.js';
import { BackendLease } from './lease.js';
import { backendsDownPage, noRoutePage } from './pages.js';
import { hostOnly, matchRoute } from './routing.js';
import type { ReverseSettings } from './settings.js';
import type { BackendStatus } from './status.js';

export interface ReversePoolDeps {
  /** The event log (bus.log): backend state changes, once each. */
  log(level: LogLevel, message: string): void;
  /** Active health checks' IO (httpProbe in production). */
  probe: HealthProbe;
  /** Epoch milliseconds. @default Date.now */
  now?: () => number;
}

/** What to do with one request in reverse mode. */
export type ReverseDecision =
  | { kind: 'backend'; lease: BackendLease }
  /** Answered by the proxy: every backend of the group down (503), or no route (404). */
  | { kind: 'answer'; response: LocalResponse; tag: 'backends-down' | 'no-route' };

/**
 * Reverse mode's state: the backend groups, the route table, the health checks. The network
 * adapters ask it per request (`decide`); the runtime starts and stops it and reads `statuses()`
 * for the backends pane and the metrics.
 */
export class ReversePool {
  private readonly groups = new Map<string, BackendGroup>();
  private readonly checks: ActiveChecks;

  constructor(
    readonly settings: ReverseSettings,
    deps: ReversePoolDeps,
  ) {
    const groupDeps = { log: deps.log, now: deps.now ?? Date.now };
    for (const g of settings.groups) this.groups.set(g.name, new BackendGroup(g, groupDeps));
    this.checks = new ActiveChecks([...this.groups.values()], deps.probe);
  }

  /**
   * Route a request by its Host and path and choose a backend of the group; the lease counts it in
   * flight until released.
   */
  decide(hostHeader: string | undefined, path: string, clientAddress: string): ReverseDecision {
    const match = matchRoute(this.settings.routes, this.settings.defaultGroup, hostHeader, path);
    const group = match ? this.groups.get(match.group) : undefined;
    if (!match || !group) return { kind: 'answer', response: noRoutePage(hostOnly(hostHeader), path), tag: 'no-route' };
    const backend = group.choose(clientAddress);
    if (!backend) return { kind: 'answer', response: backendsDownPage(group.name, group.statuses(), group.retryAfterSeconds()), tag: 'backends-down' };
    return { kind: 'backend', lease: new BackendLease(group, backend, match.path, clientAddress, this.settings.forwarded, this.settings.hostHeader) };
  }

  /** Every backend of every group, in configuration order. */
  statuses(): BackendStatus[] {
    return [...this.groups.values()].flatMap((g) => g.statuses());
  }

  /** Start the active health checks (after the listener is up). */
  start(): void {
    this.checks.start();
  }

  /** Stop every timer: health checks and passive cool-downs. */
  stop(): void {
    this.checks.stop();
    for (const g of this.groups.values()) g.stop();
  }
}
