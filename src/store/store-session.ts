import type { Flow } from '../proxy/core/flow.js';
import { FlowScanner, type ScanRequest } from './flow-scan.js';
import { LogIndex } from './log-index.js';
import { indexSessionLog, type IndexLogOptions } from './log-indexer.js';
import { needsBodies } from './session-bodies.js';
import { SessionLog, type LineLocation } from './session-log.js';
import { SessionRows } from './session-rows.js';

/** What the session side asks of the store. */
export interface StoreHooks {
  /** Something read in the background arrived: publish a new snapshot. */
  changed(): void;
  /** A problem worth the event log (an unreadable line). */
  warn(message: string): void;
  /** The flow at `seq` if the store's memory has it (held, or detached while in flight). */
  memoryFlow(seq: number): Flow | undefined;
}

/**
 * The store's side of its session (issue 7): the offset index of every flow it has seen, the
 * caches of rows and bodies read back, the background filter scanner, and the changes (marks)
 * made to flows that are no longer held. The store keeps the ring and decides what is held;
 * this answers for everything older.
 */
export class StoreSession {
  readonly log: SessionLog;
  readonly index = new LogIndex();
  readonly rows: SessionRows;
  private readonly scanner: FlowScanner;
  /** Older flows changed in memory (marked): they win over what the session says. */
  private readonly edits = new Map<number, Flow>();

  constructor(
    dir: string,
    /** The next sequence the store hands out: the index starts there. */
    base: number,
    private readonly hooks: StoreHooks,
  ) {
    this.log = new SessionLog(dir);
    this.index.reset(base);
    this.rows = new SessionRows(this.log, this.index, hooks.changed, hooks.warn);
    this.scanner = new FlowScanner({ log: this.log, memoryFlow: (seq) => this.edits.get(seq) ?? hooks.memoryFlow(seq), location: (seq) => this.location(seq) }, hooks.changed);
  }

  /** Index the session's existing log (`proxyctl open`); returns the lines indexed. */
  indexLog(opts: IndexLogOptions): Promise<number> {
    return indexSessionLog(this.log.path, this.index, opts);
  }

  location(seq: number): LineLocation | null {
    const offset = this.index.offsetOf(seq);
    return offset < 0 ? null : { offset, length: this.index.lengthOf(seq) };
  }

  /**
   * An older flow for the snapshot (no IO): changed in memory, in flight (`inMemory`), or a row
   * read before. Otherwise the row is asked for in the background and this is undefined.
   */
  older(seq: number, inMemory: Flow | undefined): Flow | undefined {
    const flow = this.edits.get(seq) ?? inMemory ?? this.rows.peek(seq);
    if (!flow) {
      this.rows.want(seq);
      return undefined;
    }
    return needsBodies(flow) ? this.rows.withBodies(seq, flow) : flow;
  }

  /** An older flow by id among `[from, to)`, its row read now if need be (commands: mark, replay). */
  findOlder(id: string, from: number, to: number): { seq: number; flow: Flow } | null {
    for (const seq of this.index.candidates(id, from, to)) {
      const flow = this.edits.get(seq) ?? this.hooks.memoryFlow(seq) ?? this.rows.rowSync(seq);
      if (flow && !(flow instanceof Error) && flow.id === id) return { seq, flow };
    }
    return null;
  }

  /** An older flow as changed in memory, if it was. */
  edited(seq: number): Flow | undefined {
    return this.edits.get(seq);
  }

  /** Keep a change to an older flow (a mark) in memory. */
  edit(seq: number, flow: Flow): void {
    this.edits.set(seq, flow);
  }

  /** `flow` (at `seq`) with the bodies it keeps in the session read back now. */
  whole(seq: number, flow: Flow): Flow {
    return needsBodies(flow) ? this.rows.hydrateSync(seq, flow) : flow;
  }

  scan(request: ScanRequest | null): void {
    if (request) this.scanner.start(request);
    else this.scanner.stop();
  }

  /** Forget everything below `base` (the store was cleared); sequences go on from `base`. */
  clear(base: number): void {
    this.scanner.stop();
    this.rows.clear();
    this.edits.clear();
    this.index.reset(base);
  }

  dispose(): void {
    this.scanner.dispose();
    this.rows.dispose();
    this.log.close();
  }
}
