import { firstFrom, type Balancer, type Candidate } from './balancer.js';

/**
 * The backend with the fewest requests in flight relative to its weight. Ties (the common case
 * under light load) rotate round the group, so sequential requests still spread evenly.
 */
export class LeastConnections implements Balancer {
  private cursor = 0;

  constructor(private readonly size: number) {}

  pick(candidates: readonly Candidate[], _client: string, retry = false): number {
    let least = Infinity;
    for (const c of candidates) least = Math.min(least, c.inFlight / c.weight);
    const tied = candidates.filter((c) => c.inFlight / c.weight === least);
    const chosen = firstFrom(tied, this.cursor, this.size);
    if (!retry) this.cursor = (chosen.index + 1) % this.size;
    return chosen.index;
  }
}
