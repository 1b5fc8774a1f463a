import type { Flow } from './flow.js';

export type BreakpointStage = 'request' | 'response';

/** A compiled breakpoint: from a `breakpoint` rule or the TUI's intercept filter. */
export interface Breakpoint {
  /** Where it came from, for the pause reason (`intercept ~u /api/`, `rules[2] ~d api`). */
  label: string;
  matches: (flow: Flow) => boolean;
  on: ReadonlySet<BreakpointStage>;
  /** Milliseconds a flow may wait before `onTimeout` applies; null waits for the user. */
  timeoutMs: number | null;
  onTimeout: 'continue' | 'abort';
}

/** The first breakpoint that stops this flow at this stage, if any. Pure. */
export function matchBreakpoint(breakpoints: readonly Breakpoint[], flow: Flow, stage: BreakpointStage): Breakpoint | null {
  for (const bp of breakpoints) {
    if (!bp.on.has(stage)) continue;
    let hit = false;
    try {
      hit = bp.matches(flow);
    } catch {
      // A predicate must never break traffic; a throwing one simply does not match.
      hit = false;
    }
    if (hit) return bp;
  }
  return null;
}
