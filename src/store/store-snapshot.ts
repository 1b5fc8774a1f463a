import type { Flow } from '../proxy/core/flow.js';
import type { LogLevel } from '../proxy/core/events.js';
import type { ScanRequest } from './flow-scan.js';

/** The flow store's public shapes (flow-store.ts re-exports them). */

export interface LogEntry {
  time: number;
  level: LogLevel;
  message: string;
  flowId?: string;
}

/** What `getSnapshot()` returns: a new object whenever anything changed (for useSyncExternalStore). */
export interface StoreSnapshot {
  /** Increments on every change that was published. */
  version: number;
  /**
   * Flows in view, oldest first: the held ones and, with a session attached, the older ones that
   * can be read back from it (evicted from memory, still in the list).
   */
  count: number;
  /** Flows ever added (including evicted and cleared ones). */
  totalSeen: number;
  /** Flows held in memory: the newest `held` of the `count` (positions `count - held` on). */
  held: number;
  /** Flows currently paused at a breakpoint. */
  paused: number;
  /**
   * The flow at position `index` (0 = oldest in view). An older flow not read yet is undefined and
   * is read in the background (a new snapshot follows); bodies kept in the session come without
   * bytes (`isInSession`) unless `hydrate` read them back.
   */
  at(index: number): Flow | undefined;
  /** A held flow by id (no IO). */
  get(id: string): Flow | undefined;
  /** Newest log entries, oldest first. */
  log: readonly LogEntry[];
  /** Read back, in the background, the bodies of the flow with sequence `seq` (`totalSeen - count + index`). */
  hydrate(seq: number): void;
  /**
   * The flow with sequence `seq`, whole: held as it is, or its row and bodies read back from the
   * session off the event loop. For code that needs many whole flows at once (an export of the
   * view); undefined outside the view or when its line cannot be read.
   */
  read(seq: number): Promise<Flow | undefined>;
  /** Run a background filter over flows not wholly in memory; `null` abandons the running ones. */
  scan(request: ScanRequest | null): void;
}

export interface FlowStoreOptions {
  /** Flows kept in memory; the oldest are evicted beyond it. @default 20000 */
  maxFlows?: number;
  /**
   * Captured body bytes kept in memory. Beyond it the bytes of the oldest finished flows already
   * recorded in the session are let go of (read back on demand). Without a session nothing can be
   * let go of. @default 268435456 (256 MiB)
   */
  maxBodyBytes?: number;
  /** Log entries kept. @default 1000 */
  maxLog?: number;
  /**
   * Coalescing window for subscriber notifications in ms; 0 notifies synchronously.
   * @default 50
   */
  notifyIntervalMs?: number;
  /**
   * Coalescing window while traffic is sustained (a publish happened in the last 500 ms). Renders
   * cost the proxy's own thread; measured with the TUI open, 50 ms windows cut plain-HTTP
   * throughput to about 0.4 of headless and 250 ms windows kept it at about 1.0.
   * @default notifyIntervalMs
   */
  busyNotifyIntervalMs?: number;
}

export const DEFAULT_STORE_BODY_BYTES = 256 * 1024 * 1024;
