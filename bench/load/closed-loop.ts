/**
 * The accounting both pools share for one closed-loop run: who may send next (duration and
 * request-count limits), what each response adds, and when the run is over (every worker left, or
 * the hard time limit). A pool only knows how to send a request on its own connections.
 */
import { performance } from 'node:perf_hooks';
import { Samples } from '../stats.js';

/** What one run of a pool measured. */
export interface LoadRun {
  /** Responses received (any status). */
  requests: number;
  /** Responses with a status other than 200, connections lost, parse errors. */
  errors: number;
  /** From the first request to the last response. */
  elapsedMs: number;
  /** Body bytes received. */
  bytes: number;
  /** Latency of each request in milliseconds. */
  latencies: Samples;
}

export interface ClosedLoopOptions {
  /** Stop sending after this long (in-flight requests still finish). */
  durationMs?: number;
  /** Stop sending after this many requests over all connections. */
  maxRequests?: number;
  /** Bound for the whole run including the in-flight tail. @default durationMs + 30 s */
  hardLimitMs?: number;
}

export class ClosedLoop {
  readonly result: LoadRun = { requests: 0, errors: 0, elapsedMs: 0, bytes: 0, latencies: new Samples() };
  readonly done: Promise<LoadRun>;
  private readonly start = performance.now();
  private readonly deadline: number;
  private readonly max: number;
  private sent = 0;
  private active = 0;
  private last = this.start;
  private finished = false;
  private resolve!: (run: LoadRun) => void;
  private readonly guard: NodeJS.Timeout;

  constructor(opts: ClosedLoopOptions, private readonly onFinish: () => void = () => {}) {
    this.deadline = opts.durationMs === undefined ? Number.POSITIVE_INFINITY : this.start + opts.durationMs;
    this.max = opts.maxRequests ?? Number.POSITIVE_INFINITY;
    this.done = new Promise((resolve) => (this.resolve = resolve));
    this.guard = setTimeout(() => {
      // Whatever is still in flight at the hard limit counts as failed.
      this.result.errors += this.active;
      this.finish();
    }, opts.hardLimitMs ?? (opts.durationMs ?? 0) + 30_000);
  }

  get isOver(): boolean {
    return this.finished;
  }

  /** A worker (a connection, a stream slot) joins the run. */
  join(): void {
    this.active++;
  }

  /** May a worker send another request now? Counts it when it may. */
  maySend(now: number): boolean {
    if (this.finished || this.sent >= this.max || now >= this.deadline) return false;
    this.sent++;
    return true;
  }

  /** A response (or a failed request) ended at `now`. */
  record(now: number, latencyMs: number, bytes: number, ok: boolean): void {
    this.result.latencies.push(latencyMs);
    this.last = now;
    this.result.requests++;
    this.result.bytes += bytes;
    if (!ok) this.result.errors++;
  }

  /** A worker leaves the run (done sending, or its connection was lost); the last one ends it. */
  leave(): void {
    if (--this.active === 0) this.finish();
  }

  /** End the run now if no worker joined. */
  settleIfEmpty(): void {
    if (this.active === 0) this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.guard);
    this.onFinish();
    this.result.elapsedMs = this.last - this.start;
    this.resolve(this.result);
  }
}
