import type { LogLevel } from '../core/events.js';
import { Backend } from './backend.js';
import { createBalancer, type Balancer } from './balance/balancer.js';
import { nextHealth, type HealthEvent, type HealthRules } from './health-state.js';
import type { GroupSettings } from './settings.js';
import type { BackendStatus } from './status.js';

export interface GroupDeps {
  log(level: LogLevel, message: string): void;
  /** Epoch milliseconds. */
  now(): number;
}

/**
 * A named set of backends with its balancer and health rules: chooses a backend per request among
 * the healthy ones, applies health events (logging each state change once), and takes back a
 * backend that traffic marked down once its cool-down is over (when no active check will).
 */
export class BackendGroup {
  readonly name: string;
  readonly backends: readonly Backend[];
  private readonly balancer: Balancer;
  private readonly rules: HealthRules;
  private readonly cooldowns = new Map<Backend, NodeJS.Timeout>();

  constructor(
    readonly settings: GroupSettings,
    private readonly deps: GroupDeps,
  ) {
    this.name = settings.name;
    this.backends = settings.backends.map((b, i) => new Backend(settings.name, i, b.url, b.weight));
    this.balancer = createBalancer(settings.balance, this.backends.length);
    this.rules = {
      active: settings.health !== null,
      unhealthyAfter: settings.health?.unhealthyAfter ?? 1,
      healthyAfter: settings.health?.healthyAfter ?? 1,
      passiveFailures: settings.passive.failures,
      cooldownMs: settings.passive.cooldownMs,
    };
  }

  /** The group's clock (epoch ms): health events are stamped with it. */
  now(): number {
    return this.deps.now();
  }

  /**
   * A healthy backend for this client, other than `exclude` (the one that failed: a retry, which
   * does not take a turn in the rotation); null when there is none.
   */
  choose(client: string, exclude?: Backend): Backend | null {
    const candidates = [];
    for (const b of this.backends) {
      if (b.healthy && b !== exclude) candidates.push({ index: b.index, weight: b.weight, inFlight: b.inFlight, key: b.url });
    }
    if (candidates.length === 0) return null;
    return this.backends[this.balancer.pick(candidates, client, exclude !== undefined)]!;
  }

  /** Apply a health event to one of this group's backends. */
  record(backend: Backend, event: HealthEvent): void {
    if (event.type === 'request' && !event.ok) backend.failures++;
    const { state, change } = nextHealth(backend.health, event, this.rules);
    backend.health = state;
    if (change === 'down') {
      const left = this.backends.filter((b) => b.healthy).length;
      const back = state.downUntil !== null ? `; tried again in ${Math.round((state.downUntil - event.at) / 1000)} s` : this.rules.active ? '; back after passing health checks' : '';
      this.deps.log('warn', `backend ${backend.url} (group ${this.name}) is down: ${state.reason ?? 'unhealthy'}${back} (${left} of ${this.backends.length} healthy)`);
      if (state.downUntil !== null) this.scheduleCooldown(backend, state.downUntil - event.at);
    } else if (change === 'up') {
      this.clearCooldown(backend);
      const left = this.backends.filter((b) => b.healthy).length;
      this.deps.log('info', `backend ${backend.url} (group ${this.name}) is healthy again (${left} of ${this.backends.length} healthy)`);
    }
  }

  /**
   * For `Retry-After` when every backend is down: whole seconds until the next chance of one coming
   * back (its next active check, or the end of its cool-down); at least 1.
   */
  retryAfterSeconds(): number {
    const now = this.deps.now();
    let soonest = Infinity;
    for (const b of this.backends) {
      const at = this.rules.active ? b.nextCheckAt : b.health.downUntil;
      if (at !== null) soonest = Math.min(soonest, at);
    }
    if (!Number.isFinite(soonest)) return 1;
    return Math.max(1, Math.ceil((soonest - now) / 1000));
  }

  statuses(): BackendStatus[] {
    return this.backends.map((b) => b.status());
  }

  /** Stop the cool-down timers (shutdown). */
  stop(): void {
    for (const t of this.cooldowns.values()) clearTimeout(t);
    this.cooldowns.clear();
  }

  private scheduleCooldown(backend: Backend, ms: number): void {
    this.clearCooldown(backend);
    const timer = setTimeout(() => {
      this.cooldowns.delete(backend);
      const now = this.deps.now();
      const until = backend.health.downUntil;
      // Timers may fire a millisecond early by the wall clock: wait out the rest.
      if (until !== null && now < until) this.scheduleCooldown(backend, until - now);
      else this.record(backend, { type: 'cooldown-over', at: now });
    }, Math.max(0, ms));
    timer.unref();
    this.cooldowns.set(backend, timer);
  }

  private clearCooldown(backend: Backend): void {
    const t = this.cooldowns.get(backend);
    if (t) clearTimeout(t);
    this.cooldowns.delete(backend);
  }
}
