import type { RequestEdit, ResponseEdit } from './commands.js';
import type { LocalResponse } from './pipeline.js';
import type { BreakpointStage } from './breakpoints.js';

/** What the user (or the timeout policy) decided for a paused flow. */
export type PauseDecision =
  | { action: 'resume'; request?: RequestEdit; response?: ResponseEdit; reason?: string }
  | { action: 'kill'; reason?: string }
  | { action: 'respond'; response: LocalResponse };

interface Entry {
  stage: BreakpointStage;
  resolve: (d: PauseDecision) => void;
  timer: NodeJS.Timeout | null;
}

/**
 * The flows waiting at breakpoints, bounded. Each waits for a decision, or for its timeout policy;
 * one paused flow never holds up another (each has its own promise).
 */
export class PauseRegistry {
  private readonly entries = new Map<string, Entry>();

  constructor(
    /** Flows that may wait at once; beyond it new matches pass through. @default 100 */
    readonly limit = 100,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  has(flowId: string): boolean {
    return this.entries.has(flowId);
  }

  stageOf(flowId: string): BreakpointStage | null {
    return this.entries.get(flowId)?.stage ?? null;
  }

  /** True when there is room for one more paused flow. */
  hasRoom(): boolean {
    return this.entries.size < this.limit;
  }

  /** Wait for a decision. With a timeout, the policy decides when it expires. */
  wait(flowId: string, stage: BreakpointStage, timeoutMs: number | null, onTimeout: 'continue' | 'abort'): Promise<PauseDecision> {
    return new Promise((resolve) => {
      const entry: Entry = { stage, resolve, timer: null };
      if (timeoutMs !== null) {
        entry.timer = setTimeout(() => {
          this.decide(flowId, onTimeout === 'abort' ? { action: 'kill', reason: `breakpoint timeout (${timeoutMs} ms) aborted it` } : { action: 'resume', reason: `breakpoint timeout (${timeoutMs} ms) let it continue` });
        }, timeoutMs);
      }
      this.entries.set(flowId, entry);
    });
  }

  /** Settle a paused flow. Returns false when it is not paused. */
  decide(flowId: string, decision: PauseDecision): boolean {
    const entry = this.entries.get(flowId);
    if (!entry) return false;
    this.entries.delete(flowId);
    if (entry.timer) clearTimeout(entry.timer);
    entry.resolve(decision);
    return true;
  }

  /** Settle a flow whose client went away while it was paused (its waiter sees a kill). */
  cancel(flowId: string): void {
    this.decide(flowId, { action: 'kill', reason: 'the client went away while the flow was paused' });
  }

  ids(): string[] {
    return [...this.entries.keys()];
  }
}
