import type { Flow } from '../../proxy/core/flow.js';
import type { StoreSnapshot } from '../../store/flow-store.js';

export type FlowPredicate = (flow: Flow) => boolean;

/** What the index reads from a store snapshot. */
export type IndexSource = Pick<StoreSnapshot, 'count' | 'totalSeen' | 'at'>;

/** How many syncs a watched, finished flow is re-checked for before the watch lapses. */
const WATCH_SYNCS = 400;

/**
 * The list's view of the store under a filter: the arrival sequence numbers of matching flows,
 * ascending. A flow's sequence number is `totalSeen - count + position` and never changes, so the
 * index survives eviction (entries below the oldest held sequence are dropped) and clearing.
 *
 * Cost: a full scan only when the filter changes (a new index); afterwards each `sync` tests only the
 * flows that arrived since the last one, plus the few that may still change: flows in flight (a
 * response can make `~c 404` match) and flows the UI asked to `watch` (e.g. just marked, for
 * `~marked`). A flow that stops matching leaves the view; one that starts matching joins it in order.
 * Finished flows changed by something else (a rule adding a tag later) keep their earlier verdict
 * until the filter is applied again.
 */
export class FilterIndex {
  private seqs: number[] = [];
  /** Live entries are `seqs[head..]`; evicted ones are skipped, then compacted in bulk. */
  private head = 0;
  /** Every sequence below this has been tested. */
  private scanned = 0;
  private oldest = 0;
  private count = 0;
  /**
   * Flows to re-test when their object changes: sequence → last tested flow, and for a watched
   * (finished) flow the syncs left before the watch lapses; null for a flow in flight.
   */
  private readonly pending = new Map<number, { flow: Flow; watch: number | null }>();
  private last: IndexSource | null = null;

  constructor(readonly predicate: FlowPredicate | null) {}

  /** Bring the index up to date with a snapshot (idempotent for the same snapshot). */
  sync(src: IndexSource): void {
    if (src === this.last) return;
    this.last = src;
    const oldest = src.totalSeen - src.count;
    this.oldest = oldest;
    this.count = src.count;
    if (!this.predicate) return;
    while (this.head < this.seqs.length && this.seqs[this.head]! < oldest) this.head++;
    if (this.head > 1024 && this.head * 2 > this.seqs.length) {
      this.seqs = this.seqs.slice(this.head);
      this.head = 0;
    }
    for (const [seq, entry] of this.pending) {
      const flow = seq >= oldest ? src.at(seq - oldest) : undefined;
      if (!flow) {
        this.pending.delete(seq);
        continue;
      }
      const changed = flow !== entry.flow;
      if (changed) {
        entry.flow = flow;
        this.setMatch(seq, this.test(flow));
      }
      if (entry.watch === null) {
        if (settled(flow)) this.pending.delete(seq);
      } else if (changed || --entry.watch <= 0) {
        this.pending.delete(seq);
      }
    }
    for (let seq = Math.max(this.scanned, oldest); seq < src.totalSeen; seq++) {
      const flow = src.at(seq - oldest);
      if (!flow) continue;
      if (this.test(flow)) this.seqs.push(seq);
      if (!settled(flow)) this.pending.set(seq, { flow, watch: null });
    }
    this.scanned = Math.max(this.scanned, src.totalSeen);
  }

  /** Re-check this flow when it next changes (the UI expects a change it asked for). */
  watch(seq: number): void {
    if (!this.predicate || !this.last || seq < this.oldest) return;
    const flow = this.last.at(seq - this.oldest);
    if (!flow) return;
    // A flow in flight is re-tested on every change anyway.
    if (!settled(flow)) return;
    this.pending.set(seq, { flow, watch: WATCH_SYNCS });
  }

  get length(): number {
    return this.predicate ? this.seqs.length - this.head : this.count;
  }

  /** Sequence number of the flow at view position `index`, or -1. */
  seqAt(index: number): number {
    if (index < 0 || index >= this.length) return -1;
    return this.predicate ? this.seqs[this.head + index]! : this.oldest + index;
  }

  /** View position of the first flow whose sequence is `>= seq` (may equal `length`). */
  lowerBound(seq: number): number {
    if (!this.predicate) return Math.min(Math.max(0, seq - this.oldest), this.count);
    let lo = this.head;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.seqs[mid]! < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo - this.head;
  }

  /** View position of the flow with sequence `seq`, or -1 when it is not in the view. */
  indexOfSeq(seq: number): number {
    const i = this.lowerBound(seq);
    return this.seqAt(i) === seq ? i : -1;
  }

  /** Store position of a sequence (for `snapshot.at`). */
  positionOf(seq: number): number {
    return seq - this.oldest;
  }

  private test(flow: Flow): boolean {
    try {
      return this.predicate!(flow);
    } catch {
      // A predicate that throws on an odd flow (e.g. a regex over a missing body) means "no match".
      return false;
    }
  }

  private setMatch(seq: number, match: boolean): void {
    const i = this.lowerBound(seq) + this.head;
    const present = i < this.seqs.length && this.seqs[i] === seq;
    if (match && !present) this.seqs.splice(i, 0, seq);
    else if (!match && present) this.seqs.splice(i, 1);
  }
}

function settled(flow: Flow): boolean {
  return flow.phase === 'done' || flow.phase === 'error';
}
