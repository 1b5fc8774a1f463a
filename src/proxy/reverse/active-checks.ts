import type { Backend } from './backend.js';
import type { BackendGroup } from './group.js';
import type { HealthProbe } from './health-probe.js';

/**
 * The active health checks of every group that has them: each backend is checked on its own
 * timer, the next check scheduled only when the previous one finished (a slow backend never has
 * two checks at once). `stop()` clears every timer and aborts checks in progress.
 */
export class ActiveChecks {
  private readonly timers = new Map<Backend, NodeJS.Timeout>();
  private readonly running = new Set<AbortController>();
  private stopped = true;

  constructor(
    private readonly groups: readonly BackendGroup[],
    private readonly probe: HealthProbe,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    for (const g of this.groups) {
      if (!g.settings.health) continue;
      for (const b of g.backends) this.schedule(g, b, 0);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const ac of this.running) ac.abort();
    this.running.clear();
    for (const g of this.groups) for (const b of g.backends) b.nextCheckAt = null;
  }

  private schedule(group: BackendGroup, backend: Backend, delayMs: number): void {
    backend.nextCheckAt = group.now() + delayMs;
    const timer = setTimeout(() => {
      this.timers.delete(backend);
      void this.check(group, backend);
    }, delayMs);
    // Shutdown stops them; they alone never keep the process alive.
    timer.unref();
    this.timers.set(backend, timer);
  }

  private async check(group: BackendGroup, backend: Backend): Promise<void> {
    const health = group.settings.health!;
    const ac = new AbortController();
    this.running.add(ac);
    const result = await this.probe(backend.originUrl(health.path), health.timeoutMs, ac.signal);
    this.running.delete(ac);
    if (this.stopped) return;
    group.record(backend, { type: 'check', ok: result.ok, detail: result.detail, at: group.now() });
    this.schedule(group, backend, health.intervalMs);
  }
}
