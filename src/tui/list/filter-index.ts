import type { Flow } from '../../proxy/core/flow.js';
import type { StoreSnapshot } from '../../store/flow-store.js';
import { probeTest, type ScanBatch } from '../../store/flow-scan.js';

export type FlowPredicate = (flow: Flow) => boolean;

/**
 * What the index reads from a store snapshot. `held` and `scan` come with a store that reads older
 * flows back from its session; without them every flow in view is held.
 */
export type IndexSource = Pick<StoreSnapshot, 'count' | 'totalSeen' | 'at'> & Partial<Pick<StoreSnapshot, 'held' | 'scan'>>;

/** How far the filter has got through the flows older than the held ones (read from the session). */
export interface OlderCoverage {
  /** Older flows tested so far, of `total`. */
  tested: number;
  total: number;
  done: boolean;
  /** False when the store cannot scan them: the filter then covers held flows only. */
  scanning: boolean;
}

/** How many syncs a watched, finished flow is re-checked for before the watch lapses. */
const WATCH_SYNCS = 400;

/**
 * The list's view of the store under a filter: the arrival sequence numbers of matching flows,
 * ascending. A flow's sequence number is `totalSeen - count + position` and never changes, so the
 * index survives eviction and clearing (entries below the oldest sequence in view are dropped).
 *
 * Cost: a full scan of the held flows only when the filter changes (a new index); afterwards each
 * `sync` tests only the flows that arrived since the last one, plus the few that may still change:
 * flows in flight (a response can make `~c 404` match) and flows the UI asked to `watch` (e.g. just
 * marked, for `~marked`). A flow that stops matching leaves the view; one that starts matching
 * joins it in order. Finished flows changed by something else (a rule adding a tag later) keep
 * their earlier verdict until the filter is applied again.
 *
 * Flows older than the held ones (issue 7: read back from the session) are tested by the store in
 * the background (`scan`), newest first; their matches join the view as batches arrive and
 * `coverage` says how far it got. A held flow whose body the store let go of is tested without
 * the body when the verdict does not depend on it, and re-tested in the background otherwise.
 */
export class FilterIndex {
  /** Matches among flows tested in memory (sequences >= `boundary`), ascending; live from `head`. */
  private seqs: number[] = [];
  private head = 0;
  /** Matches the background scan found among older flows (< `boundary`), descending. */
  private older: number[] = [];
  /** Sequences at and above it were held when the filter was applied; below, the scan covers them. */
  private boundary: number | null = null;
  /** Every sequence below this (and at or above `boundary`) has been tested. */
  private scanned = 0;
  private first = 0;
  private count = 0;
  private olderCoverage: OlderCoverage | null = null;
  /** Results of background batches, merged at the next sync (renders see a consistent index). */
  private readonly arrived: number[] = [];
  private readonly arrivedRechecks: number[] = [];
  private readonly rechecks: number[] = [];
  private cancelled = false;
  /**
   * Flows to re-test when their object changes: sequence → last tested flow, and for a watched
   * (finished) flow the syncs left before the watch lapses; null for a flow in flight.
   */
  private readonly pending = new Map<number, { flow: Flow; watch: number | null }>();
  private last: IndexSource | null = null;

  constructor(readonly predicate: FlowPredicate | null) {}

  /** How far the filter covers the older flows; null when there are none (or no filter). */
  get coverage(): OlderCoverage | null {
    return this.olderCoverage;
  }

  /** Bring the index up to date with a snapshot (idempotent for the same snapshot). */
  sync(src: IndexSource): void {
    if (src === this.last) return;
    this.last = src;
    const first = src.totalSeen - src.count;
    const heldFrom = src.totalSeen - (src.held ?? src.count);
    this.first = first;
    this.count = src.count;
    if (!this.predicate) {
      // A cleared filter stops the background scan of the one before.
      if (!this.cancelled) src.scan?.(null);
      this.cancelled = true;
      return;
    }
    if (this.boundary === null) this.begin(src, first, heldFrom);
    this.mergeArrived();
    while (this.older.length > 0 && this.older[this.older.length - 1]! < first) this.older.pop();
    while (this.head < this.seqs.length && this.seqs[this.head]! < first) this.head++;
    if (this.head > 1024 && this.head * 2 > this.seqs.length) {
      this.seqs = this.seqs.slice(this.head);
      this.head = 0;
    }
    for (const [seq, entry] of this.pending) {
      const flow = seq >= first ? src.at(seq - first) : undefined;
      if (!flow) {
        this.pending.delete(seq);
        continue;
      }
      const changed = flow !== entry.flow;
      if (changed) {
        entry.flow = flow;
        this.setMatch(seq, this.test(seq, flow));
      }
      if (entry.watch === null) {
        if (settled(flow)) this.pending.delete(seq);
      } else if (changed || --entry.watch <= 0) {
        this.pending.delete(seq);
      }
    }
    const from = Math.max(this.scanned, first);
    // Flows that arrived and left memory between two syncs (a burst beyond the ring): the store
    // tests them from the session, like the older ones.
    if (from < heldFrom && src.scan) src.scan({ predicate: this.predicate, from, to: heldFrom, onBatch: (b) => this.arrivedRechecks.push(...b.matches) });
    for (let seq = Math.max(from, heldFrom); seq < src.totalSeen; seq++) {
      const flow = src.at(seq - first);
      if (!flow) continue;
      if (this.test(seq, flow)) this.seqs.push(seq);
      if (!settled(flow)) this.pending.set(seq, { flow, watch: null });
    }
    this.scanned = Math.max(this.scanned, src.totalSeen);
    this.sendRechecks(src);
  }

  /** Re-check this flow when it next changes (the UI expects a change it asked for). */
  watch(seq: number): void {
    if (!this.predicate || !this.last || seq < this.first) return;
    const flow = this.last.at(seq - this.first);
    if (!flow) return;
    // A flow in flight is re-tested on every change anyway.
    if (!settled(flow)) return;
    this.pending.set(seq, { flow, watch: WATCH_SYNCS });
  }

  get length(): number {
    return this.predicate ? this.older.length + this.seqs.length - this.head : this.count;
  }

  /** Sequence number of the flow at view position `index`, or -1. */
  seqAt(index: number): number {
    if (index < 0 || index >= this.length) return -1;
    if (!this.predicate) return this.first + index;
    const n = this.older.length;
    return index < n ? this.older[n - 1 - index]! : this.seqs[this.head + index - n]!;
  }

  /** View position of the first flow whose sequence is `>= seq` (may equal `length`). */
  lowerBound(seq: number): number {
    if (!this.predicate) return Math.min(Math.max(0, seq - this.first), this.count);
    // Older matches (descending): the first one below `seq` starts the ones before it in the view.
    let lo = 0;
    let hi = this.older.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.older[mid]! >= seq) lo = mid + 1;
      else hi = mid;
    }
    return this.older.length - lo + this.lowerBoundSeqs(seq) - this.head;
  }

  /** View position of the flow with sequence `seq`, or -1 when it is not in the view. */
  indexOfSeq(seq: number): number {
    const i = this.lowerBound(seq);
    return this.seqAt(i) === seq ? i : -1;
  }

  /** Store position of a sequence (for `snapshot.at`). */
  positionOf(seq: number): number {
    return seq - this.first;
  }

  /** The first sync: what was held is tested here, what is older goes to the background scan. */
  private begin(src: IndexSource, first: number, heldFrom: number): void {
    this.boundary = heldFrom;
    this.scanned = heldFrom;
    if (first >= heldFrom) return;
    const total = heldFrom - first;
    if (!src.scan) {
      this.olderCoverage = { tested: 0, total, done: false, scanning: false };
      return;
    }
    this.olderCoverage = { tested: 0, total, done: false, scanning: true };
    src.scan({
      predicate: this.predicate!,
      from: first,
      to: heldFrom,
      onBatch: (b: ScanBatch) => {
        this.arrived.push(...b.matches);
        this.olderCoverage = { tested: b.tested, total: b.total, done: b.done, scanning: !b.done };
      },
    });
  }

  /** Fold in what the background scans found since the last sync. */
  private mergeArrived(): void {
    for (const seq of this.arrived) {
      // Range batches come newest first, so appending keeps `older` descending; a flow put in
      // already (matched when marked meanwhile) goes through the ordered insert instead.
      if (this.older.length === 0 || seq < this.older[this.older.length - 1]!) this.older.push(seq);
      else this.setMatch(seq, true);
    }
    this.arrived.length = 0;
    for (const seq of this.arrivedRechecks) this.setMatch(seq, true);
    this.arrivedRechecks.length = 0;
  }

  /** Ask the store to re-test, with their bodies, the held flows whose verdict needed a body. */
  private sendRechecks(src: IndexSource): void {
    if (this.rechecks.length === 0 || !src.scan) {
      this.rechecks.length = 0;
      return;
    }
    const recheck = this.rechecks.splice(0);
    src.scan({
      predicate: this.predicate!,
      from: 0,
      to: 0,
      recheck,
      onBatch: (b) => this.arrivedRechecks.push(...b.matches),
    });
  }

  private test(seq: number, flow: Flow): boolean {
    const t = probeTest(this.predicate!, flow);
    if (t.needsBodies) this.rechecks.push(seq);
    return t.match;
  }

  private setMatch(seq: number, match: boolean): void {
    if (seq < (this.boundary ?? 0)) {
      // An older flow (edited in memory, or detached in flight): its place is in `older`.
      const i = this.older.findIndex((s) => s <= seq);
      const present = i >= 0 && this.older[i] === seq;
      if (match && !present) this.older.splice(i < 0 ? this.older.length : i, 0, seq);
      else if (!match && present) this.older.splice(i, 1);
      return;
    }
    const i = this.lowerBoundSeqs(seq);
    const present = i < this.seqs.length && this.seqs[i] === seq;
    if (match && !present) this.seqs.splice(i, 0, seq);
    else if (!match && present) this.seqs.splice(i, 1);
  }

  private lowerBoundSeqs(seq: number): number {
    let lo = this.head;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.seqs[mid]! < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function settled(flow: Flow): boolean {
  return flow.phase === 'done' || flow.phase === 'error';
}
