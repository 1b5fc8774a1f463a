import { closeSync, existsSync, fdatasyncSync, ftruncateSync, mkdirSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import type { EventBus } from '../proxy/bus.js';
import type { Flow } from '../proxy/core/flow.js';
import { SessionError } from './session-errors.js';
import { encodeFlow } from './session-codec.js';
import type { LineLocation } from './session-log.js';
import { RecentHashes } from './recent-hashes.js';
import { blobPath, blobsDir, flowsLogPath, sessionDir } from './session-paths.js';
import { repairLogTail, sessionDiskUsage } from './session-scan.js';
import { SettingsStore } from './settings.js';

/** Blob hashes remembered without asking the disk. */
const KNOWN_BLOBS = 4096;
/** Lines waiting for the end of the turn beyond this many bytes are written at once (bounded memory). */
const MAX_PENDING_BYTES = 1024 * 1024;
/** The reused output buffer: a typical turn's lines fit (about 2 KB a flow). */
const OUT_BUFFER_BYTES = 256 * 1024;

/** A line encoded and waiting for the end of the event-loop turn. */
interface PendingLine {
  flow: Flow;
  /** The record's JSON, without the newline (added when the batch is joined). */
  json: string;
  /** The line's length in bytes (UTF-8), newline included. */
  length: number;
}

export interface RecorderOptions {
  /**
   * Append to an existing session of that name. Without it, a session that already holds flows is
   * refused (`SessionError` EXISTS). @default false
   */
  continue?: boolean;
  /** Session index writes are debounced to at most one per interval (and one on close). @default 1000 */
  indexIntervalMs?: number;
  /** The settings store holding the index (tests pass their own). @default SettingsStore.open(home) */
  settings?: SettingsStore;
  /** Where problems go that must not stop recording (a failed index write). @default process.emitWarning */
  onWarning?: (message: string) => void;
  /** @default () => new Date() */
  now?: () => Date;
}

/**
 * The session recorder (DESIGN.md §1.5, §9): every finished flow becomes one line of
 * `sessions/NAME/flows.jsonl`; its bodies become content-addressed files in `blobs/`, each written
 * once and before the line that refers to it.
 *
 * Lines are batched per event-loop turn (issue 9). A `flow-end` encodes the flow, writes its new
 * blobs, and queues the line; one `writeSync` at the end of the turn (a `setImmediate`) appends every
 * line queued in it, on an fd opened with `'a'` (O_APPEND: concurrent appends never interleave
 * inside a write). Under load that turns one system call per flow into one per turn: profiles of
 * the headless proxy at ~5k req/s put the write at ~8 µs a flow alone, ~4 µs batched (about two
 * flows a turn at 20 connections). More than 1 MiB queued is written at once. `record()` (imports,
 * tests) still writes before it returns, and `flush()` and `close()` write what is queued.
 *
 * Nothing reads a line before it is written: `onRecorded`, which tells the store where a line is so
 * it can read the flow back once it leaves memory, is called only after the write (until then the
 * store keeps the flow in memory, even past its ring).
 *
 * Durability: when the recorder is attached to the bus before the access log, a printed access-log
 * line means the flow is already in the kernel's page cache, so `kill -9` after it loses nothing.
 * The access log batches per turn too, and immediates run in the order they were queued: the bus
 * delivers `flow-end` in subscription order, so at a turn's first `flow-end` the recorder queues
 * its end-of-turn write before the access log queues its own, and that write takes every line
 * queued by the time it runs. One case escapes the order: an access log attached while the
 * recorder's write is already queued, and a flow ending in an immediate queued between the two.
 * The access log's `beforeWrite` option, given `writePending`, closes it: the lines are then
 * written right before the access lines, whatever the order of attachment. A `kill -9` loses at
 * most the lines of the current turn, whose access-log lines were not printed either. Nothing is
 * fsynced per flow (that would cost milliseconds each); `flush()` and `close()` do, for power loss.
 *
 * Blobs are written at once, synchronously (content addressing makes them rare: an identical body
 * is written once), about 3 ms per MiB of a body not seen before. A blob goes to a temporary name
 * first and is renamed into place, so a kill in the middle of a blob never leaves a partial file
 * under a content hash.
 */
export class SessionRecorder {
  private fd: number | null;
  /** Hashes of blobs written or seen lately; older ones are checked on disk (bounded memory). */
  private readonly knownBlobs: Set<string>;
  /** The hash last added to `knownBlobs`. */
  private newestBlob: string | null = null;
  /** Hashes of recent small bodies by content: a repeated body is compared, not hashed again. */
  private readonly hashes = new RecentHashes();
  /**
   * Told where each flow's line went (byte offset and length in `flows.jsonl`), right after it is
   * written (never while it waits for the end of the turn): the store indexes it to read the flow
   * back once it leaves memory (issue 7).
   */
  onRecorded: ((flow: Flow, at: LineLocation) => void) | null = null;
  /** Lines written (the log's size is `logBytes`). */
  private flowCount: number;
  private logBytes: number;
  /** Lines queued for the end of the turn, in order, and their bytes. */
  private pending: PendingLine[] = [];
  private pendingBytes = 0;
  /**
   * The turn's lines are encoded into this buffer (natively, from each line's string) and written
   * from it: no joined string, and no copy made for each write. Batches larger than it (rare) get
   * a buffer of their own that is not kept.
   */
  private readonly out = Buffer.allocUnsafeSlow(OUT_BUFFER_BYTES);
  /** An end-of-turn write is queued (cleared when it runs: one immediate per turn, even after a forced write). */
  private turnQueued = false;
  /** Where a queued line that could not be written is reported (the bus once attached). */
  private reportFailure: (flow: Flow, message: string) => void;
  private blobBytes: number;
  private indexTimer: NodeJS.Timeout | null = null;
  private indexWrite: Promise<void> = Promise.resolve();
  private indexDirty = false;
  private failures = 0;

  private constructor(
    /** The session name (its directory under `sessions/`). */
    readonly name: string,
    /** `sessions/NAME`. */
    readonly dir: string,
    private readonly created: string,
    state: { fd: number; blobs: Set<string>; flowCount: number; logBytes: number; blobBytes: number },
    private readonly settings: SettingsStore,
    private readonly opts: Required<Pick<RecorderOptions, 'indexIntervalMs' | 'onWarning'>>,
  ) {
    this.fd = state.fd;
    this.knownBlobs = state.blobs;
    this.flowCount = state.flowCount;
    this.logBytes = state.logBytes;
    this.blobBytes = state.blobBytes;
    this.reportFailure = (flow, message) => this.opts.onWarning(`session ${this.name}: could not record flow ${flow.id}: ${message}`);
  }

  /**
   * Open `sessions/NAME` for appending, creating it when missing. With `continue`, a torn last line
   * left by a crash is cut off first, so the next line starts on a line of its own.
   */
  static async open(home: string, name: string, opts: RecorderOptions = {}): Promise<SessionRecorder> {
    const dir = sessionDir(home, name);
    const settings = opts.settings ?? (await SettingsStore.open(home));
    const now = opts.now ?? (() => new Date());
    const log = flowsLogPath(dir);
    mkdirSync(blobsDir(dir), { recursive: true });

    const tail = existsSync(log) ? await repairLogTail(log) : { lines: 0, size: 0, cut: 0 };
    if (tail.lines > 0 && !opts.continue) {
      throw new SessionError('EXISTS', `session ${name} already holds ${tail.lines} flows (continue it, or choose another name)`);
    }
    const onWarning = opts.onWarning ?? ((m: string) => process.emitWarning(m, 'ProxyctlSessionWarning'));
    if (tail.cut > 0) onWarning(`session ${name}: cut a torn last line (${tail.cut} bytes) left by an interrupted write`);

    const blobs = new Set<string>();
    const indexed = settings.settings.sessions[name];
    const blobBytes = indexed && indexed.logBytes === tail.size ? indexed.bytes - indexed.logBytes : (await sessionDiskUsage(dir)).blobBytes;
    const fd = openSync(log, 'a');
    const recorder = new SessionRecorder(
      name,
      dir,
      indexed?.created ?? now().toISOString(),
      { fd, blobs, flowCount: tail.lines, logBytes: tail.size, blobBytes },
      settings,
      { indexIntervalMs: opts.indexIntervalMs ?? 1000, onWarning },
    );
    recorder.indexDirty = true;
    await recorder.writeIndex();
    return recorder;
  }

  /** Flows recorded in this session so far (including earlier runs when continued, and lines queued this turn). */
  get flows(): number {
    return this.flowCount + this.pending.length;
  }

  /** Bytes of the session (log and blobs), lines queued this turn included. */
  get bytes(): number {
    return this.logBytes + this.pendingBytes + this.blobBytes;
  }

  /** Record every `flow-end` of `bus` (written at the end of the turn); returns the unsubscribe function. */
  attach(bus: EventBus): () => void {
    // A line that fails at the end of the turn still says so on the bus, naming its flow.
    this.reportFailure = (flow, message) => bus.log('error', `session ${this.name}: could not record flow ${flow.id}: ${message}`, flow.id);
    return bus.on('flow-end', (e) => {
      try {
        this.queue(e.flow);
      } catch (err) {
        // The flow still reached every other subscriber; say loudly that the session lost it.
        this.failures++;
        this.reportFailure(e.flow, errorMessage(err));
      }
    });
  }

  /**
   * Append one finished flow now: its blobs, then its line (after any line queued before it).
   * Returns where the line went. Throws on IO errors.
   */
  record(flow: Flow): LineLocation {
    this.writePending();
    const line = this.encode(flow);
    const offset = this.logBytes;
    this.writeLines([line]);
    return { offset, length: line.length };
  }

  /**
   * Queue one finished flow: its blobs are written now, its line at the end of the turn (or now,
   * past the 1 MiB bound). Throws when the recorder is closed or a blob cannot be written.
   */
  queue(flow: Flow): void {
    // Queued first, even when this flow fails below: the turn's write must come before the access
    // log's for the flows that follow in the same turn (see the class comment).
    if (!this.turnQueued) {
      this.turnQueued = true;
      setImmediate(this.endOfTurn);
    }
    const line = this.encode(flow);
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (this.pendingBytes >= MAX_PENDING_BYTES) this.writePending();
  }

  /**
   * Write the queued lines now, in one system call. A line that cannot be written is counted in
   * `failed` and reported (on the bus once attached); this does not throw.
   */
  writePending(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    try {
      this.writeLines(batch);
    } catch (err) {
      this.failures += batch.length;
      for (const line of batch) this.reportFailure(line.flow, errorMessage(err));
    }
  }

  private readonly endOfTurn = (): void => {
    this.turnQueued = false;
    this.writePending();
  };

  /** A flow's blobs written, its line encoded. */
  private encode(flow: Flow): PendingLine {
    if (this.fd === null) throw new Error(`session ${this.name} is closed`);
    const { record, blobs } = encodeFlow(flow, this.hashes.hashOf);
    for (const blob of blobs) {
      if (this.knownBlobs.has(blob.hash)) {
        this.rememberBlob(blob.hash);
        continue;
      }
      const final = blobPath(this.dir, blob.hash);
      // Not seen lately: it may still be on disk from earlier (content-addressed, written whole).
      if (!existsSync(final)) {
        const temp = `${blobsDir(this.dir)}/.tmp-${process.pid}-${blob.hash}`;
        writeFileSync(temp, blob.bytes);
        renameSync(temp, final);
        this.blobBytes += blob.bytes.length;
      }
      this.rememberBlob(blob.hash);
    }
    const json = JSON.stringify(record);
    return { flow, json, length: Buffer.byteLength(json, 'utf8') + 1 };
  }

  /** Append `lines` with one write, then account for them and tell `onRecorded`. Throws on IO errors. */
  private writeLines(lines: readonly PendingLine[]): void {
    const fd = this.fd;
    if (fd === null) throw new Error(`session ${this.name} is closed`);
    let bytes = 0;
    for (const line of lines) bytes += line.length;
    const data = bytes <= this.out.length ? this.out : Buffer.allocUnsafe(bytes);
    let end = 0;
    for (const line of lines) {
      end += data.write(line.json, end, 'utf8');
      data[end++] = 0x0a;
    }
    try {
      // The log is opened for appending and only this recorder appends to it: the lines start at
      // the size so far. A regular file takes all of it unless the disk is full; finish a short write.
      let written = 0;
      while (written < end) written += writeSync(fd, data, written, end - written);
    } catch (err) {
      // Cut off whatever part of the batch did land (disk full): the next line must start on a
      // line of its own, at the offset the store will be told.
      try {
        ftruncateSync(fd, this.logBytes);
      } catch {
        // Nothing more to do here; the next open cuts a torn last line (repairLogTail).
      }
      throw err;
    }
    let offset = this.logBytes;
    this.logBytes += bytes;
    this.flowCount += lines.length;
    this.scheduleIndex();
    for (const line of lines) {
      const at: LineLocation = { offset, length: line.length };
      offset += line.length;
      try {
        this.onRecorded?.(line.flow, at);
      } catch (err) {
        // The flow is on disk; only the listener failed, which must not read as a recording failure.
        this.opts.onWarning(`session ${this.name}: a listener failed after recording flow ${line.flow.id}: ${errorMessage(err)}`);
      }
    }
  }

  /**
   * Remember a blob hash; the set is bounded, because a long session with distinct bodies would
   * otherwise hold a hash per flow forever. A forgotten hash costs one `existsSync` when it recurs.
   */
  private rememberBlob(hash: string): void {
    // Already the newest (the same body again): nothing to move.
    if (hash === this.newestBlob) return;
    this.newestBlob = hash;
    this.knownBlobs.delete(hash);
    this.knownBlobs.add(hash);
    if (this.knownBlobs.size > KNOWN_BLOBS) this.knownBlobs.delete(this.knownBlobs.values().next().value!);
  }

  /** Write the queued lines, make everything recorded durable (fsync) and bring the session index up to date. */
  async flush(): Promise<void> {
    this.writePending();
    if (this.fd !== null) fdatasyncSync(this.fd);
    this.clearTimer();
    this.indexDirty = true;
    await this.writeIndex();
  }

  /** Flush (queued lines included) and close the log. Idempotent. */
  async close(): Promise<void> {
    if (this.fd === null) return;
    await this.flush();
    if (this.fd === null) return; // closed by a concurrent call meanwhile
    // Lines queued while the index was written: out before the fd closes, with nothing awaited
    // in between (a flow ending after this is refused as "closed" and reported).
    const late = this.pending.length > 0;
    this.writePending();
    if (late) fdatasyncSync(this.fd);
    closeSync(this.fd);
    this.fd = null;
    this.clearTimer();
    await this.writeIndex();
  }

  /** Flows that could not be written (see the bus log for why). */
  get failed(): number {
    return this.failures;
  }

  private scheduleIndex(): void {
    this.indexDirty = true;
    if (this.indexTimer) return;
    this.indexTimer = setTimeout(() => {
      this.indexTimer = null;
      void this.writeIndex();
    }, this.opts.indexIntervalMs);
    // A pending index write must not keep the process alive; close() writes it anyway.
    this.indexTimer.unref();
  }

  private clearTimer(): void {
    if (this.indexTimer) clearTimeout(this.indexTimer);
    this.indexTimer = null;
  }

  private writeIndex(): Promise<void> {
    const run = async () => {
      if (!this.indexDirty) return;
      this.indexDirty = false;
      try {
        await this.settings.putSession({
          name: this.name,
          created: this.created,
          flowCount: this.flowCount,
          bytes: this.logBytes + this.blobBytes,
          logBytes: this.logBytes,
        });
      } catch (err) {
        // The index is a cache of what is on disk (sessions list re-counts a stale entry).
        this.opts.onWarning(`session ${this.name}: could not update the session index: ${errorMessage(err)}`);
      }
    };
    this.indexWrite = this.indexWrite.then(run, run);
    return this.indexWrite;
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
