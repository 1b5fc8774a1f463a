import { closeSync, existsSync, fdatasyncSync, mkdirSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import type { EventBus } from '../proxy/bus.js';
import type { Flow } from '../proxy/core/flow.js';
import { SessionError } from './session-errors.js';
import { encodeFlow } from './session-codec.js';
import type { LineLocation } from './session-log.js';
import { blobPath, blobsDir, flowsLogPath, sessionDir } from './session-paths.js';
import { repairLogTail, sessionDiskUsage } from './session-scan.js';
import { SettingsStore } from './settings.js';

/** Blob hashes remembered without asking the disk. */
const KNOWN_BLOBS = 4096;

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
 * `sessions/NAME/flows.jsonl` the moment its `flow-end` event arrives; its bodies become
 * content-addressed files in `blobs/`, each written once and before the line that refers to it.
 *
 * Why synchronous writes: the line is written with one `writeSync` on an fd opened with `'a'`
 * (O_APPEND: concurrent appends never interleave inside a line) before the event handler returns.
 * The bus delivers in subscription order, so when the recorder is attached before the access log,
 * a printed access-log line means the flow is already in the kernel's page cache: `kill -9` after
 * it loses nothing. The cost is the write on the event loop, measured on this machine: about 20 µs
 * per flow with a small body (encoding, line and blob), and about 3 ms per MiB of a body not seen
 * before (a new 4 MiB blob: ~12 ms); identical bodies are written once. Nothing is fsynced per
 * flow (that would cost milliseconds each); `flush()` and `close()` do, for power loss.
 *
 * A blob goes to a temporary name first and is renamed into place, so a kill in the middle of a
 * blob never leaves a partial file under a content hash.
 */
export class SessionRecorder {
  private fd: number | null;
  /** Hashes of blobs written or seen lately; older ones are checked on disk (bounded memory). */
  private readonly knownBlobs: Set<string>;
  /**
   * Told where each flow's line went (byte offset and length in `flows.jsonl`), right after it is
   * written: the store indexes it to read the flow back once it leaves memory (issue 7).
   */
  onRecorded: ((flow: Flow, at: LineLocation) => void) | null = null;
  private flowCount: number;
  private logBytes: number;
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

  /** Flows recorded in this session so far (including earlier runs when continued). */
  get flows(): number {
    return this.flowCount;
  }

  /** Bytes on disk (log and blobs). */
  get bytes(): number {
    return this.logBytes + this.blobBytes;
  }

  /** Record every `flow-end` of `bus`; returns the unsubscribe function. */
  attach(bus: EventBus): () => void {
    return bus.on('flow-end', (e) => {
      try {
        this.record(e.flow);
      } catch (err) {
        // The flow still reached every other subscriber; say loudly that the session lost it.
        this.failures++;
        bus.log('error', `session ${this.name}: could not record flow ${e.flow.id}: ${err instanceof Error ? err.message : String(err)}`, e.flow.id);
      }
    });
  }

  /**
   * Append one finished flow now (blobs first, then its line). Returns where the line went. Throws
   * on IO errors.
   */
  record(flow: Flow): LineLocation {
    if (this.fd === null) throw new Error(`session ${this.name} is closed`);
    const { record, blobs } = encodeFlow(flow);
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
    const line = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
    // The log is opened for appending and only this recorder appends to it: the line starts at
    // the size so far.
    const at: LineLocation = { offset: this.logBytes, length: line.length };
    let written = writeSync(this.fd, line);
    // A regular file takes the whole buffer unless the disk is full; finish a short write anyway.
    while (written < line.length) written += writeSync(this.fd, line, written);
    this.flowCount++;
    this.logBytes += line.length;
    this.scheduleIndex();
    try {
      this.onRecorded?.(flow, at);
    } catch (err) {
      // The flow is on disk; only the listener failed, which must not read as a recording failure.
      this.opts.onWarning(`session ${this.name}: a listener failed after recording flow ${flow.id}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return at;
  }

  /**
   * Remember a blob hash; the set is bounded, because a long session with distinct bodies would
   * otherwise hold a hash per flow forever. A forgotten hash costs one `existsSync` when it recurs.
   */
  private rememberBlob(hash: string): void {
    this.knownBlobs.delete(hash);
    this.knownBlobs.add(hash);
    if (this.knownBlobs.size > KNOWN_BLOBS) this.knownBlobs.delete(this.knownBlobs.values().next().value!);
  }

  /** Make everything recorded durable (fsync) and bring the session index up to date. */
  async flush(): Promise<void> {
    if (this.fd !== null) fdatasyncSync(this.fd);
    this.clearTimer();
    this.indexDirty = true;
    await this.writeIndex();
  }

  /** Flush and close the log. Idempotent. */
  async close(): Promise<void> {
    if (this.fd === null) return;
    await this.flush();
    closeSync(this.fd);
    this.fd = null;
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
        this.opts.onWarning(`session ${this.name}: could not update the session index: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    this.indexWrite = this.indexWrite.then(run, run);
    return this.indexWrite;
  }
}
