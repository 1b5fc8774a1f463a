import type { Flow } from '../proxy/core/flow.js';
import type { LogIndex } from './log-index.js';
import type { StoredFlow } from './schemas.js';
import { bodyReadFailed, heldBodyBytes, withBodiesFrom } from './session-bodies.js';
import { SessionError } from './session-errors.js';
import { rowFlow, type LineLocation, type SessionLog } from './session-log.js';

export interface SessionRowsOptions {
  /** Rows (flows without body bytes) kept once read. @default 1024 */
  maxRows?: number;
  /** Rows asked for and not read yet; the oldest requests are dropped beyond it. @default 256 */
  maxWanted?: number;
  /** Flows read back with their bodies, kept for the detail view and commands. @default 8 */
  maxFull?: number;
  /** Body bytes those may hold together. @default 32 MiB */
  maxFullBytes?: number;
}

interface FullEntry {
  /** The flow read back with its bodies (bodies that failed carry `readError`); null when its line failed. */
  flow: Flow | null;
  /** Why the line could not be read (the flow's in-session bodies then say so). */
  error: string | null;
  bytes: number;
  /** The last `withBodiesFrom(base, flow)`, so the UI gets the same object for the same base. */
  merged: { base: Flow; result: Flow } | null;
}

/**
 * What the store reads back from its session (issue 7): rows of flows older than the held ones,
 * and whole flows (body bytes included) for flows whose bytes it let go of. Both are small LRU
 * caches by sequence number, so memory stays bounded however far back the user scrolls.
 *
 * Rows are read asynchronously: `want` queues a sequence (the list asks for the rows it draws) and
 * one batch of positional reads serves every queued row; `onChange` then lets the store publish a
 * new snapshot. Requests are bounded (the newest are kept), so code that walks every position
 * cannot queue the whole log. A row that cannot be read is remembered as failed (and reported
 * once through `onError`), so a render loop never retries it forever.
 */
export class SessionRows {
  private readonly rows = new Map<number, Flow>();
  private readonly failed = new Map<number, string>();
  private readonly wanted = new Set<number>();
  private readonly full = new Map<number, FullEntry>();
  private readonly hydrating = new Map<number, Promise<void>>();
  private fullBytes = 0;
  private draining = false;
  private scheduled = false;
  /** Bumped by `clear`: reads started before it must not fill the caches. */
  private generation = 0;
  private disposed = false;
  private readonly maxRows: number;
  private readonly maxWanted: number;
  private readonly maxFull: number;
  private readonly maxFullBytes: number;

  constructor(
    private readonly log: SessionLog,
    private readonly index: LogIndex,
    private readonly onChange: () => void,
    private readonly onError: (message: string) => void,
    opts: SessionRowsOptions = {},
  ) {
    this.maxRows = opts.maxRows ?? 1024;
    this.maxWanted = opts.maxWanted ?? 256;
    this.maxFull = opts.maxFull ?? 8;
    this.maxFullBytes = opts.maxFullBytes ?? 32 * 1024 * 1024;
  }

  /** The row of `seq` if it was read (no IO); a hit counts as recent use (the rows in view stay). */
  peek(seq: number): Flow | undefined {
    const hit = this.rows.get(seq);
    if (hit) {
      this.rows.delete(seq);
      this.rows.set(seq, hit);
    }
    return hit;
  }

  /** Why the row of `seq` could not be read, if it could not. */
  failure(seq: number): string | undefined {
    return this.failed.get(seq);
  }

  /** Ask for the row of `seq` in the background (no-op when held, failed, or not recorded). */
  want(seq: number): void {
    if (this.disposed || this.rows.has(seq) || this.failed.has(seq) || this.index.offsetOf(seq) < 0) return;
    // Re-asking moves a row to the newest end, so the rows in view survive the bound.
    this.wanted.delete(seq);
    this.wanted.add(seq);
    if (this.wanted.size > this.maxWanted) this.wanted.delete(this.wanted.values().next().value!);
    this.schedule();
  }

  /** The row of `seq`, read now if need be (commands). Undefined when not recorded; a SessionError when unreadable. */
  rowSync(seq: number): Flow | SessionError | undefined {
    const hit = this.rows.get(seq);
    if (hit) return hit;
    const loc = this.location(seq);
    if (!loc) return undefined;
    const [record] = this.log.readSync([loc]);
    if (record instanceof SessionError) return record;
    return this.keepRow(seq, rowFlow(record!));
  }

  /** `flow` (the flow at `seq`, or its row) with the bodies it keeps in the session read back, if that was done. */
  withBodies(seq: number, flow: Flow): Flow {
    const entry = this.full.get(seq);
    if (!entry) return flow;
    if (entry.merged?.base === flow) return entry.merged.result;
    const result = entry.flow ? withBodiesFrom(flow, entry.flow) : failedBodies(flow, entry.error ?? 'unreadable');
    entry.merged = { base: flow, result };
    return result;
  }

  /**
   * Read the bodies of `seq` back in the background; `onChange` follows. The promise settles (never
   * rejects) when they are in, or failed to be (`withBodies` then says why).
   */
  hydrate(seq: number): Promise<void> {
    const pending = this.hydrating.get(seq);
    if (pending) return pending;
    const loc = this.location(seq);
    if (this.disposed || this.full.has(seq) || !loc) return Promise.resolve();
    const gen = this.generation;
    const run = (async () => {
      let full: Flow | SessionError;
      try {
        const [record] = await this.log.read([loc]);
        full = record instanceof SessionError ? record : await this.fullOf(seq, record!);
      } catch (err) {
        // Not expected (reads report errors as values); a failed read must not become an unhandled rejection.
        full = new SessionError('NOT_FOUND', err instanceof Error ? err.message : String(err));
      } finally {
        this.hydrating.delete(seq);
      }
      if (gen !== this.generation || this.disposed) return;
      this.keepFull(seq, full);
      this.onChange();
    })();
    this.hydrating.set(seq, run);
    return run;
  }

  /** The row of `seq`, read off the event loop if need be. Undefined when not recorded; a SessionError when unreadable. */
  async row(seq: number): Promise<Flow | SessionError | undefined> {
    const hit = this.rows.get(seq);
    if (hit) return hit;
    const loc = this.location(seq);
    if (!loc) return undefined;
    const gen = this.generation;
    const [record] = await this.log.read([loc]);
    if (record instanceof SessionError) return record;
    const flow = rowFlow(record!);
    return gen === this.generation && !this.disposed ? this.keepRow(seq, flow) : flow;
  }

  /** The bodies of `seq`, read now if need be (commands that need the whole flow: replay). */
  hydrateSync(seq: number, flow: Flow): Flow {
    if (!this.full.has(seq)) {
      const loc = this.location(seq);
      if (!loc) return flow;
      const [record] = this.log.readSync([loc]);
      let full: Flow | SessionError;
      if (record instanceof SessionError) full = record;
      else {
        try {
          full = this.log.fullFlowSync(record!);
        } catch (err) {
          full = failedBodies(rowFlow(record!), err);
        }
      }
      this.keepFull(seq, full);
    }
    return this.withBodies(seq, flow);
  }

  /** Forget every row and body (the store was cleared); reads in progress are discarded. */
  clear(): void {
    this.generation++;
    this.rows.clear();
    this.failed.clear();
    this.wanted.clear();
    this.full.clear();
    this.fullBytes = 0;
  }

  dispose(): void {
    this.disposed = true;
    this.clear();
  }

  private location(seq: number): LineLocation | null {
    const offset = this.index.offsetOf(seq);
    return offset < 0 ? null : { offset, length: this.index.lengthOf(seq) };
  }

  private async fullOf(seq: number, record: StoredFlow): Promise<Flow> {
    this.keepRow(seq, rowFlow(record));
    try {
      return await this.log.fullFlow(record);
    } catch (err) {
      return failedBodies(rowFlow(record), err);
    }
  }

  private keepRow(seq: number, flow: Flow): Flow {
    this.rows.delete(seq);
    this.rows.set(seq, flow);
    if (this.rows.size > this.maxRows) this.rows.delete(this.rows.keys().next().value!);
    return flow;
  }

  private keepFull(seq: number, full: Flow | SessionError): void {
    const old = this.full.get(seq);
    if (old) this.fullBytes -= old.bytes;
    this.full.delete(seq);
    if (full instanceof SessionError) this.fail(seq, full.message);
    const flow = full instanceof SessionError ? null : full;
    const bytes = flow ? heldBodyBytes(flow) : 0;
    this.full.set(seq, { flow, error: full instanceof SessionError ? full.message : null, bytes, merged: null });
    this.fullBytes += bytes;
    // Keep at least the newest entry, whatever its size: it is the one being looked at.
    for (const [k, v] of this.full) {
      if (this.full.size <= 1 || (this.full.size <= this.maxFull && this.fullBytes <= this.maxFullBytes)) break;
      this.full.delete(k);
      this.fullBytes -= v.bytes;
    }
  }

  private fail(seq: number, message: string): void {
    if (!this.failed.has(seq)) this.onError(message);
    this.failed.set(seq, message);
    if (this.failed.size > this.maxRows) this.failed.delete(this.failed.keys().next().value!);
  }

  private schedule(): void {
    if (this.scheduled || this.draining) return;
    this.scheduled = true;
    // After the current render: every row the frame asked for is read in one batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.disposed || this.wanted.size === 0) return;
    this.draining = true;
    const gen = this.generation;
    const seqs = [...this.wanted];
    this.wanted.clear();
    const locs: LineLocation[] = [];
    const kept: number[] = [];
    for (const seq of seqs) {
      const loc = this.location(seq);
      if (loc) {
        locs.push(loc);
        kept.push(seq);
      }
    }
    try {
      const records = await this.log.read(locs);
      if (gen !== this.generation || this.disposed) return;
      records.forEach((r, i) => {
        if (r instanceof SessionError) this.fail(kept[i]!, r.message);
        else this.keepRow(kept[i]!, rowFlow(r));
      });
    } catch (err) {
      // Reads report errors as values; anything else is reported, never left as an unhandled rejection.
      this.onError(`reading flows from ${this.log.path} failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.draining = false;
    }
    this.onChange();
    if (this.wanted.size > 0) this.schedule();
  }
}

/** The row with its in-session bodies marked unreadable, saying why. */
function failedBodies(row: Flow, err: unknown): Flow {
  const reason = err instanceof Error ? err.message : String(err);
  return {
    ...row,
    request: { ...row.request, body: bodyReadFailed(row.request.body, reason) },
    response: row.response ? { ...row.response, body: bodyReadFailed(row.response.body, reason) } : null,
  };
}
