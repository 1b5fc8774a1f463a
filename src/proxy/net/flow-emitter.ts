import type { EventBus } from '../bus.js';
import type { Flow, FlowError } from '../core/flow.js';
import { snapshotFlow } from '../core/snapshot.js';

/**
 * Announces flow changes on the bus as snapshots, and only builds a snapshot when somebody
 * listens. Also counts flows in flight so shutdown can drain them.
 */
export class FlowEmitter {
  private inFlight = 0;
  private drainWaiters: Array<() => void> = [];

  constructor(readonly bus: EventBus) {}

  get active(): number {
    return this.inFlight;
  }

  start(flow: Flow): void {
    this.inFlight++;
    if (this.bus.wants('flow-start')) this.bus.emit({ type: 'flow-start', flow: snapshotFlow(flow) });
  }

  update(flow: Flow): void {
    if (this.bus.wants('flow-update')) this.bus.emit({ type: 'flow-update', flow: snapshotFlow(flow) });
  }

  /** Finish a flow: `done`, or `error` when an error is given. Idempotent per flow by phase. */
  end(flow: Flow, error?: FlowError): void {
    if (flow.phase === 'done' || flow.phase === 'error') return;
    if (error) {
      flow.error = error;
      flow.phase = 'error';
    } else flow.phase = 'done';
    this.inFlight--;
    if (this.bus.wants('flow-end')) this.bus.emit({ type: 'flow-end', flow: snapshotFlow(flow) });
    if (this.inFlight === 0 && this.drainWaiters.length) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Resolves when no flow is in flight. */
  drained(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }
}
