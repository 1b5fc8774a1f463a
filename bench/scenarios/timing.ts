/** Window lengths and round counts: `--quick` trades precision for a run of about two minutes. */
export interface Timing {
  rounds: number;
  windowMs: number;
  warmupMs: number;
}

export function throughputTiming(quick: boolean): Timing {
  return quick ? { rounds: 2, windowMs: 1500, warmupMs: 1500 } : { rounds: 3, windowMs: 5000, warmupMs: 3000 };
}

/** Budget for an interleaved direct/proxy comparison, with room for start-up and connection set-up. */
export function interleavedBudgetMs(t: Timing, sides = 2): number {
  return sides * (t.warmupMs + t.rounds * t.windowMs) * 2 + 60_000;
}
