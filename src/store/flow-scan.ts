import type { Flow } from '../proxy/core/flow.js';
import type { StoredFlow } from './schemas.js';
import { isInSession, needsBodies, withBodiesFrom } from './session-bodies.js';
import { SessionError } from './session-errors.js';
import { rowFlow, type LineLocation, type SessionLog } from './session-log.js';

export type ScanPredicate = (flow: Flow) => boolean;

/** A background filter run over flows that are not (wholly) in memory. */
export interface ScanRequest {
  predicate: ScanPredicate;
  /** Test every flow with a sequence in `[from, to)`, newest first. */
  from: number;
  to: number;
  /** Also test these (held flows whose verdict depended on a body kept in the session). */
  recheck?: readonly number[];
  /** After each batch: the sequences that matched in it (descending for the range), and progress. */
  onBatch(batch: ScanBatch): void;
}

export interface ScanBatch {
  matches: number[];
  /** Flows tested so far, of `total`. */
  tested: number;
  total: number;
  done: boolean;
}

/** What the scanner reads from the store. */
export interface ScanSource {
  /** The flow at `seq` if memory has it (held, detached or edited), bodies possibly in the session. */
  memoryFlow(seq: number): Flow | undefined;
  /** Where the line of `seq` is, or null when it is not recorded. */
  location(seq: number): LineLocation | null;
  readonly log: SessionLog;
}

/** Flows tested per batch; between batches the scan yields to the event loop (keys, traffic). */
const BATCH = 200;

/**
 * Evaluate `predicate` on a flow whose bodies may be in the session, without reading them: the
 * bodies in the session answer `bytes` with null and note that they were asked. The verdict stands
 * unless the predicate asked for a body and said no; then only the flow read back whole can tell.
 */
export function probeTest(predicate: ScanPredicate, flow: Flow): { match: boolean; needsBodies: boolean } {
  if (!needsBodies(flow)) return { match: safeTest(predicate, flow), needsBodies: false };
  let touched = false;
  const probe = <B extends Flow['request']['body']>(b: B): B => {
    if (!isInSession(b)) return b;
    const copy = { ...b };
    Object.defineProperty(copy, 'bytes', {
      get() {
        touched = true;
        return null;
      },
    });
    return copy;
  };
  const probed: Flow = {
    ...flow,
    request: { ...flow.request, body: probe(flow.request.body) },
    response: flow.response ? { ...flow.response, body: probe(flow.response.body) } : null,
  };
  const match = safeTest(predicate, probed);
  return { match, needsBodies: !match && touched };
}

function safeTest(predicate: ScanPredicate, flow: Flow): boolean {
  try {
    return predicate(flow);
  } catch {
    // A predicate that throws on an odd flow means "no match" (as the list's own filter treats it).
    return false;
  }
}

/** A request being worked through. */
interface Job {
  req: ScanRequest;
  /** Next sequence of the range to test (descending). */
  next: number;
  /** Next recheck to test. */
  extra: number;
  tested: number;
  total: number;
}

/**
 * Runs filter scans over the session in the background (issue 7): flows older than the held ones
 * are read back a batch at a time (positional reads of their lines), tested, and reported; a
 * predicate that looks at a body gets the body read from its blob for just the flows where it
 * matters. One predicate is current at a time: starting a scan with another predicate (or
 * `stop()`) abandons the others at their next batch. Rechecks of a few held flows go before the
 * long range scan, so they are answered at once.
 */
export class FlowScanner {
  private current: ScanPredicate | null = null;
  private jobs: Job[] = [];
  private running = false;
  private disposed = false;

  constructor(
    private readonly source: ScanSource,
    /** Called after each batch (the store publishes a snapshot). */
    private readonly onProgress: () => void,
  ) {}

  start(req: ScanRequest): void {
    if (this.disposed) return;
    if (req.predicate !== this.current) {
      this.current = req.predicate;
      this.jobs = [];
    }
    const extra = req.recheck ?? [];
    this.jobs.push({ req, next: req.to - 1, extra: 0, tested: 0, total: Math.max(0, req.to - req.from) + extra.length });
    if (!this.running) void this.run();
  }

  /** Abandon every scan (the filter was cleared, or the store). */
  stop(): void {
    this.current = null;
    this.jobs = [];
  }

  dispose(): void {
    this.disposed = true;
    this.stop();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (!this.disposed && this.jobs.length > 0) {
        // Short recheck jobs first; the range scan of the older flows goes on after them.
        const job = this.jobs.find((j) => j.req.to <= j.req.from) ?? this.jobs[0]!;
        const seqs: number[] = [];
        while (seqs.length < BATCH && job.next >= job.req.from) seqs.push(job.next--);
        const extra = job.req.recheck ?? [];
        while (seqs.length < BATCH && job.extra < extra.length) seqs.push(extra[job.extra++]!);
        let matches: number[] = [];
        let failed = false;
        if (seqs.length > 0) {
          try {
            matches = await this.testBatch(job.req.predicate, seqs);
          } catch {
            // Reads report problems as values; anything unexpected ends this job, not the process.
            failed = true;
          }
        }
        if (!this.jobs.includes(job)) continue; // abandoned meanwhile
        job.tested += seqs.length;
        const done = failed || (job.next < job.req.from && job.extra >= extra.length);
        if (done) this.jobs.splice(this.jobs.indexOf(job), 1);
        job.req.onBatch({ matches, tested: done ? job.total : job.tested, total: job.total, done });
        this.onProgress();
        await new Promise<void>((r) => setImmediate(r));
      }
    } finally {
      this.running = false;
    }
  }

  /** The sequences of `seqs` that match, in the order given. */
  private async testBatch(predicate: ScanPredicate, seqs: number[]): Promise<number[]> {
    const verdict = new Map<number, boolean>();
    const toRead: Array<{ seq: number; loc: LineLocation }> = [];
    for (const seq of seqs) {
      const mem = this.source.memoryFlow(seq);
      const loc = this.source.location(seq);
      if (mem) {
        const t = probeTest(predicate, mem);
        if (t.needsBodies && loc) toRead.push({ seq, loc });
        else verdict.set(seq, t.match);
      } else if (loc) toRead.push({ seq, loc });
    }
    const records = toRead.length ? await this.source.log.read(toRead.map((r) => r.loc)) : [];
    for (let i = 0; i < records.length; i++) {
      const { seq } = toRead[i]!;
      const record = records[i]!;
      if (record instanceof SessionError) continue; // an unreadable line matches nothing
      const flow = this.source.memoryFlow(seq) ?? rowFlow(record);
      const t = probeTest(predicate, flow);
      verdict.set(seq, t.needsBodies ? await this.testWhole(predicate, flow, record) : t.match);
    }
    return seqs.filter((s) => verdict.get(s) === true);
  }

  private async testWhole(predicate: ScanPredicate, flow: Flow, record: StoredFlow): Promise<boolean> {
    let full: Flow;
    try {
      full = await this.source.log.fullFlow(record);
    } catch {
      return false; // the body's blob is gone: there is nothing to match
    }
    return safeTest(predicate, withBodiesFrom(flow, full));
  }
}
