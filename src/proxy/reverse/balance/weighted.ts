import type { Balancer, Candidate } from './balancer.js';

/**
 * Smooth weighted round-robin (the nginx algorithm): every pick adds each usable backend's weight
 * to its running score, takes the highest score and subtracts the total weight from it. Weights
 * 5:1:1 give `a a b a c a a`: shares are exact over a period and the heavy backend's turns are
 * spread out instead of coming in a burst. Down backends keep their score until they return.
 */
export class SmoothWeighted implements Balancer {
  private readonly current: number[];

  constructor(size: number) {
    this.current = new Array<number>(size).fill(0);
  }

  pick(candidates: readonly Candidate[], _client: string, retry = false): number {
    if (retry) {
      // What the next pick would choose, without taking the turn.
      let best = candidates[0]!;
      for (const c of candidates) if (this.score(c) + c.weight > this.score(best) + best.weight) best = c;
      return best.index;
    }
    let total = 0;
    let best: Candidate | null = null;
    for (const c of candidates) {
      this.current[c.index] = this.score(c) + c.weight;
      total += c.weight;
      if (!best || this.score(c) > this.score(best)) best = c;
    }
    const chosen = best!;
    this.current[chosen.index]! -= total;
    return chosen.index;
  }

  private score(c: Candidate): number {
    return this.current[c.index] ?? 0;
  }
}
