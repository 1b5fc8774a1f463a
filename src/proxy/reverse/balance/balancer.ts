import { assertNever } from '../../core/assert-never.js';
import type { BalanceKind } from '../settings.js';
import { IpHash } from './ip-hash.js';
import { LeastConnections } from './least-connections.js';
import { RoundRobin } from './round-robin.js';
import { SmoothWeighted } from './weighted.js';

/** A backend a balancer may choose: only the usable ones (healthy, not excluded) are offered. */
export interface Candidate {
  /** Position of the backend in its group (stable for the group's life). */
  index: number;
  weight: number;
  /** Requests it is serving now (least-connections). */
  inFlight: number;
  /** Stable identity of the backend (its URL), hashed by ip-hash. */
  key: string;
}

/**
 * One group's choice of backend per request. Pure apart from its own small state (a cursor, the
 * current weights), so each algorithm is tested without sockets.
 */
export interface Balancer {
  /**
   * Choose among `candidates` (never empty) for the client at `client`; returns a candidate's
   * `index`. A `retry` pick (another backend for a request whose backend failed) leaves the state
   * alone, so a failure does not cost the backend that stepped in its own next turn.
   */
  pick(candidates: readonly Candidate[], client: string, retry?: boolean): number;
}

/** The balancer for a group of `size` backends. */
export function createBalancer(kind: BalanceKind, size: number): Balancer {
  switch (kind) {
    case 'round-robin':
      return new RoundRobin(size);
    case 'weighted':
      return new SmoothWeighted(size);
    case 'least-connections':
      return new LeastConnections(size);
    case 'ip-hash':
      return new IpHash();
    default:
      return assertNever(kind, 'balance');
  }
}

/**
 * The candidate that comes first at or after `cursor` going round the group (so skipped, down
 * backends do not shift everyone's turn). Shared by round-robin and the least-connections tie-break.
 */
export function firstFrom(candidates: readonly Candidate[], cursor: number, size: number): Candidate {
  let best = candidates[0]!;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = (((c.index - cursor) % size) + size) % size;
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}
