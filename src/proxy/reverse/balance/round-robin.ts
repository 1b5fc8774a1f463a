import { firstFrom, type Balancer, type Candidate } from './balancer.js';

/** Each usable backend in turn, in group order; a down backend's turn passes to the next one. */
export class RoundRobin implements Balancer {
  private cursor = 0;

  constructor(private readonly size: number) {}

  pick(candidates: readonly Candidate[], _client: string, retry = false): number {
    const chosen = firstFrom(candidates, this.cursor, this.size);
    if (!retry) this.cursor = (chosen.index + 1) % this.size;
    return chosen.index;
  }
}
